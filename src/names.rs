//! What a task id and a mode name may look like (SPEC §7), and the names we
//! derive from them (tmux window names, session names).

use anyhow::Result;

use crate::error::bail_input;

/// Longest task id or mode name we accept; real ones are under 40.
const MAX_NAME_LEN: usize = 128;

/// A task id: `[A-Za-z0-9_-]+`, at most 128 characters.
pub fn check_task_id(id: &str) -> Result<()> {
    if id.is_empty() {
        bail_input!("the task id is empty");
    }
    if id.len() > MAX_NAME_LEN {
        bail_input!(
            "the task id is {} characters long; at most {MAX_NAME_LEN} are allowed",
            id.len()
        );
    }
    if let Some(bad) = id.chars().find(|&c| !is_name_char(c)) {
        bail_input!(
            "invalid task id {}: {} is not allowed (use letters, digits, `_` and `-`)",
            quoted(id),
            describe_char(bad)
        );
    }
    Ok(())
}

/// A mode name: segments of `[A-Za-z0-9_-]+` joined by `/`; never `..`,
/// never absolute.
pub fn check_mode_name(mode: &str) -> Result<()> {
    if mode.is_empty() {
        bail_input!("the mode name is empty");
    }
    if mode.len() > MAX_NAME_LEN {
        bail_input!(
            "the mode name is {} characters long; at most {MAX_NAME_LEN} are allowed",
            mode.len()
        );
    }
    if mode.starts_with('/') {
        bail_input!(
            "invalid mode {}: a mode is a name below .tasks/.modes, not an absolute path",
            quoted(mode)
        );
    }
    for segment in mode.split('/') {
        if segment == ".." || segment == "." {
            bail_input!(
                "invalid mode {}: `{segment}` is not allowed in a mode name",
                quoted(mode)
            );
        }
        if segment.is_empty() {
            bail_input!("invalid mode {}: empty path segment", quoted(mode));
        }
        if let Some(bad) = segment.chars().find(|&c| !is_name_char(c)) {
            bail_input!(
                "invalid mode {}: {} is not allowed (use letters, digits, `_`, `-` and `/`)",
                quoted(mode),
                describe_char(bad)
            );
        }
    }
    Ok(())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// A value shown in a message, quoted and with control characters escaped,
/// shortened when huge.
pub fn quoted(value: &str) -> String {
    let shown: String = value.chars().take(60).collect();
    let more = if value.chars().count() > 60 {
        "…"
    } else {
        ""
    };
    format!("{shown:?}{more}")
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '\n' => "a newline".to_string(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("`{c}`"),
    }
}

/// A session's name in the books (its record and log file names): the task
/// id and the mode joined by `.`, which neither can contain, so that two
/// (task, mode) pairs never share a name; the mode's `/` become `.` too.
pub fn session_name(task_id: &str, mode: &str) -> String {
    format!("{task_id}.{}", mode.replace('/', "."))
}

/// The tmux window name for a session: `<task>-<mode>`, with the characters
/// tmux gives meaning to in targets (`/`, `:`, `.`, spaces) replaced by `_`.
pub fn window_name(task_id: &str, mode: &str) -> String {
    format!("{task_id}-{mode}")
        .chars()
        .map(|c| match c {
            '/' | ':' | '.' | ' ' | '\t' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids() {
        assert!(check_task_id("fix-bug-05A").is_ok());
        assert!(check_task_id("02_cli-update").is_ok());
        assert!(check_task_id("TASK-20250516T024757").is_ok());
        for bad in [
            "",
            "a b",
            "../x",
            "a/b",
            "x;rm",
            "$(touch x)",
            "a\nb",
            "`id`",
            "'q'",
            "é",
        ] {
            assert!(check_task_id(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(check_task_id(&"a".repeat(129)).is_err());
        assert!(check_task_id(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn mode_names() {
        for good in [
            "auto",
            "implementation",
            "implementation/code_review",
            "a/b/c",
        ] {
            assert!(check_mode_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "..",
            "../etc/passwd",
            "a/../b",
            "/etc/passwd",
            "a//b",
            "a/",
            "./a",
            "a.md",
            "a b",
            "$(x)",
        ] {
            assert!(check_mode_name(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn window_names_have_no_target_characters() {
        assert_eq!(
            window_name("fix-05A", "implementation/code_review"),
            "fix-05A-implementation_code_review"
        );
        assert_eq!(window_name("t", "a.b:c d"), "t-a_b_c_d");
    }

    #[test]
    fn session_names_never_collide() {
        assert_eq!(
            session_name("fix-05A", "implementation"),
            "fix-05A.implementation"
        );
        assert_eq!(
            session_name("fix-05A", "implementation/code_review"),
            "fix-05A.implementation.code_review"
        );
        // The same window name, different sessions.
        assert_eq!(window_name("x-a", "b"), window_name("x", "a-b"));
        assert_ne!(session_name("x-a", "b"), session_name("x", "a-b"));
    }

    #[test]
    fn quoted_escapes_and_shortens() {
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
        assert!(quoted(&"x".repeat(500)).ends_with('…'));
    }
}
