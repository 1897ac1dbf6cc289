//! Docker runs: the `docker run` command line around the agent, the check
//! that an engine answers before anything is written, and stopping a
//! container.
//!
//! The agent gets its prompt on stdin (`-i`, no terminal), so the
//! supervisor runs `docker run` exactly as it runs a headless agent and
//! copies the stream-json it prints to the log.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::Result;

use crate::config::{Config, DockerConfig};
use crate::error::bail_input;
use crate::names;
use crate::process;

/// Where the working tree is mounted in the container.
pub const WORKSPACE: &str = "/workspace";

/// The variables every container gets, named with `-e NAME` and set in the
/// environment of the `docker` client.
pub const TASK_VAR: &str = "TASK_ID";
pub const MODE_VAR: &str = "WORK_MODE";

/// How long `docker version` may take to say whether an engine answers.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the engine gives the container's processes between SIGTERM and
/// SIGKILL on `docker stop`: less than the supervisor's own grace period, so
/// the engine ends the container before the supervisor gives up on it.
const STOP_SECONDS: &str = "8";

/// The engine's command when docker.engine does not name one.
const DEFAULT_ENGINE: &str = "docker";

/// The engine's program (docker.engine, else `docker`), found on PATH.
pub fn find(config: &Config) -> Result<PathBuf> {
    let engine = config.docker.engine.as_deref().unwrap_or(DEFAULT_ENGINE);
    if engine.is_empty() || engine.starts_with('-') {
        bail_input!(
            "{} is not a program: {}",
            config.describe("docker.engine"),
            names::quoted(engine)
        );
    }
    match process::find_program(engine) {
        Some(program) => Ok(program),
        None if config.docker.engine.is_none() => bail_input!(
            "--exec docker needs Docker, and there is no `docker` on PATH; install Docker \
             (or Podman, with engine = \"podman\" under [docker]), or run headless without \
             it: --exec detached"
        ),
        None => bail_input!(
            "--exec docker runs {}, and there is no such program{}",
            names::quoted(engine),
            if engine.contains('/') { "" } else { " on PATH" }
        ),
    }
}

/// Checks that a container engine answers (`docker version` knows the
/// server).
pub fn check_engine(docker: &Path) -> Result<()> {
    let program = docker.file_name().map_or_else(
        || docker.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let answer = process::cmd(docker)
        .args(["version", "--format", "{{.Server.Version}}"])
        .output_within(ENGINE_TIMEOUT);
    let problem = match answer {
        Ok(output) if output.status.success() => return Ok(()),
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            format!(
                "`{program} version` {}{}",
                process::describe_status(output.status),
                if first.is_empty() {
                    String::new()
                } else {
                    format!(": {}", first.trim())
                }
            )
        }
        Err(err) => format!("{err:#}"),
    };
    bail_input!(
        "--exec docker needs a Docker engine, and none answers ({problem}); start Docker \
         (Docker Desktop, `systemctl start docker`) or check DOCKER_HOST"
    )
}

/// What `docker run` needs besides the configuration.
pub struct Container<'a> {
    pub name: &'a str,
    pub workdir: &'a Path,
    pub project_root: &'a Path,
    /// The main repository's git folder, mounted at the same path when the
    /// working tree is a linked worktree (whose `.git` file points there).
    pub git_dir: Option<&'a Path>,
    /// The agent's argv inside the container.
    pub agent_argv: &'a [String],
}

/// `docker run --rm -i --name N -v WORKDIR:/workspace -w /workspace
/// -e TASK_ID -e WORK_MODE [mounts] [env] IMAGE AGENT…`, checked.
pub fn run_argv(docker: &Path, config: &Config, container: &Container<'_>) -> Result<Vec<String>> {
    let settings = &config.docker;
    let image = check_image(config, settings)?;
    check_container_name(container.name)?;
    let workdir = container.workdir.display().to_string();
    if workdir.contains(':') {
        bail_input!(
            "the working tree {} contains `:`, which `docker run -v` cannot mount",
            names::quoted(&workdir)
        );
    }
    let mut argv: Vec<String> = vec![
        docker.display().to_string(),
        "run".into(),
        "--rm".into(),
        "-i".into(),
        "--name".into(),
        container.name.to_string(),
        "-v".into(),
        format!("{workdir}:{WORKSPACE}"),
        "-w".into(),
        WORKSPACE.into(),
        "-e".into(),
        TASK_VAR.into(),
        "-e".into(),
        MODE_VAR.into(),
    ];
    if let Some(git_dir) = container.git_dir {
        let git_dir = git_dir.display().to_string();
        if !git_dir.contains(':') {
            argv.push("-v".into());
            argv.push(format!("{git_dir}:{git_dir}"));
        }
    }
    for mount in &settings.mounts {
        argv.push("-v".into());
        argv.push(resolve_mount(config, mount, container.project_root)?);
    }
    for var in &settings.env {
        check_env(config, var)?;
        argv.push("-e".into());
        argv.push(var.clone());
    }
    argv.push(image.to_string());
    argv.extend(container.agent_argv.iter().cloned());
    Ok(argv)
}

fn check_image<'a>(config: &Config, settings: &'a DockerConfig) -> Result<&'a str> {
    let Some(image) = settings.image.as_deref() else {
        bail_input!(
            "--exec docker needs an image: set docker.image in {} (an image with the agent installed)",
            config
                .source
                .as_ref()
                .map_or(".tasks/.config/scopecraft-tmux.toml".to_string(), |p| p
                    .display()
                    .to_string())
        );
    };
    if image.is_empty() || image.starts_with('-') || image.chars().any(char::is_whitespace) {
        bail_input!(
            "{} is not an image name: {}",
            config.describe("docker.image"),
            names::quoted(image)
        );
    }
    Ok(image)
}

/// The container's name: the session's, and a short hash of the project
/// root, because container names are global to the engine and two projects
/// can have a task and mode of the same name.
pub fn container_name(session_name: &str, project_root: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    project_root.hash(&mut hasher);
    format!("{session_name}-{:08x}", hasher.finish() as u32)
}

/// Docker's rule for container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
fn check_container_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !first_ok || !rest_ok || name.len() < 2 {
        bail_input!(
            "the session name {} cannot be a Docker container name (it must start with a letter or digit)",
            names::quoted(name)
        );
    }
    Ok(())
}

/// A configured mount, with its source made absolute when it is a path.
fn resolve_mount(config: &Config, mount: &str, project_root: &Path) -> Result<String> {
    let describe = || config.describe("docker.mounts");
    let Some((source, rest)) = mount.split_once(':') else {
        bail_input!(
            "{}: {} is not SOURCE:TARGET",
            describe(),
            names::quoted(mount)
        );
    };
    let target = rest.split(':').next().unwrap_or("");
    if source.is_empty() || !target.starts_with('/') {
        bail_input!(
            "{}: {} is not SOURCE:TARGET with an absolute TARGET",
            describe(),
            names::quoted(mount)
        );
    }
    if target.trim_end_matches('/') == WORKSPACE {
        bail_input!(
            "{}: {} mounts {WORKSPACE}, which is the working tree's; mount elsewhere",
            describe(),
            names::quoted(mount)
        );
    }
    let source = if let Some(below_home) = source.strip_prefix("~/") {
        let Some(home) = dirs::home_dir() else {
            bail_input!("{}: {} needs HOME", describe(), names::quoted(mount));
        };
        home.join(below_home).display().to_string()
    } else if source == "." || source.starts_with("./") || source.starts_with("../") {
        crate::project::normalise(&project_root.join(source))
            .display()
            .to_string()
    } else {
        // Absolute paths as they are; anything else is a named volume.
        source.to_string()
    };
    if source.contains(':') {
        bail_input!(
            "{}: the source of {} contains `:`",
            describe(),
            names::quoted(mount)
        );
    }
    Ok(format!("{source}:{rest}"))
}

fn check_env(config: &Config, var: &str) -> Result<()> {
    let name = var.split_once('=').map_or(var, |(name, _)| name);
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        bail_input!(
            "{}: {} is not NAME or NAME=value",
            config.describe("docker.env"),
            names::quoted(var)
        );
    }
    if name == TASK_VAR || name == MODE_VAR {
        bail_input!(
            "{}: {name} is set by scopecraft-tmux (the task id and the mode)",
            config.describe("docker.env")
        );
    }
    Ok(())
}

/// Starts `docker stop -t 8 NAME`: the engine sends SIGTERM to the
/// container's main process and SIGKILL 8 s later. What it says on
/// stderr goes to ours (a headless run's log).
pub fn stop(docker: &Path, name: &str) -> Result<Child> {
    let mut cmd = process::cmd(docker).args(["stop", "-t", STOP_SECONDS, name]);
    cmd.command_mut().stdin(Stdio::null()).stdout(Stdio::null());
    cmd.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    fn argv(config: &Config) -> Result<Vec<String>> {
        run_argv(
            Path::new("/usr/bin/docker"),
            config,
            &Container {
                name: "fix-11A-implementation",
                workdir: Path::new("/src/app"),
                git_dir: None,
                project_root: Path::new("/src/app"),
                agent_argv: &["claude".into(), "-p".into()],
            },
        )
    }

    #[test]
    fn builds_the_docker_run_command_line() {
        let config = config(
            r#"
            [docker]
            image = "ghcr.io/acme/claude:1"
            mounts = ["~/.claude:/root/.claude", "./cache:/cache:ro", "npm-cache:/root/.npm", "../shared:/shared"]
            env = ["ANTHROPIC_API_KEY", "CI=1"]
            "#,
        );
        let home = dirs::home_dir().unwrap();
        assert_eq!(
            argv(&config).unwrap(),
            [
                "/usr/bin/docker",
                "run",
                "--rm",
                "-i",
                "--name",
                "fix-11A-implementation",
                "-v",
                "/src/app:/workspace",
                "-w",
                "/workspace",
                "-e",
                "TASK_ID",
                "-e",
                "WORK_MODE",
                "-v",
                &format!("{}:/root/.claude", home.join(".claude").display()),
                "-v",
                "/src/app/cache:/cache:ro",
                "-v",
                "npm-cache:/root/.npm",
                "-v",
                "/src/shared:/shared",
                "-e",
                "ANTHROPIC_API_KEY",
                "-e",
                "CI=1",
                "ghcr.io/acme/claude:1",
                "claude",
                "-p",
            ]
        );
    }

    #[test]
    fn refuses_what_would_break_the_command_line() {
        let cases = [
            ("", "needs an image"),
            ("[docker]\nimage = \"--privileged\"", "not an image name"),
            (
                "[docker]\nimage = \"i\"\nmounts = [\"/tmp:/workspace/\"]",
                "mounts /workspace",
            ),
            (
                "[docker]\nimage = \"i\"\nmounts = [\"/tmp\"]",
                "not SOURCE:TARGET",
            ),
            (
                "[docker]\nimage = \"i\"\nmounts = [\"/tmp:relative\"]",
                "absolute TARGET",
            ),
            (
                "[docker]\nimage = \"i\"\nenv = [\"TASK_ID=x\"]",
                "set by scopecraft-tmux",
            ),
            (
                "[docker]\nimage = \"i\"\nenv = [\"A B=1\"]",
                "not NAME or NAME=value",
            ),
        ];
        for (text, needle) in cases {
            let err = argv(&config(text)).unwrap_err();
            assert!(
                err.to_string().contains(needle),
                "{text:?}: {err} lacks {needle:?}"
            );
            assert!(
                err.chain().any(|c| c.is::<crate::error::BadInput>()),
                "{text:?}: bad input, exit 2"
            );
        }
    }

    #[test]
    fn container_names_follow_dockers_rule() {
        assert!(check_container_name("fix-11A-implementation").is_ok());
        assert!(check_container_name("_x-auto").is_err());
        assert!(check_container_name("-x").is_err());
    }
}
