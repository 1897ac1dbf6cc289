//! tmux menus built from literal text. `display-menu` expands an item's
//! name and command as formats, then parses the command with tmux's
//! command parser, and `run-shell` expands its shell command once more:
//! every escape those steps need is made here, so callers pass plain text
//! and commands as argument lists. The plugin's menu itself, page by page,
//! is in the submodules.

mod context;
mod items;
mod pages;

use std::path::Path;

pub use items::message;
pub use pages::{Action, Page, Request, commands};

use crate::tmux;

/// Widest label we put in a menu; tmux does not show a menu wider than
/// the terminal.
pub const MAX_LABEL: usize = 70;

/// One row of a menu.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Row {
    /// A choice: shown text, key (may be empty) and the tmux command it runs.
    Item {
        name: String,
        key: String,
        command: Vec<String>,
    },
    /// Text shown dim that cannot be chosen.
    Note(String),
    Separator,
}

/// A `display-menu` in the making.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    title: String,
    rows: Vec<Row>,
    /// Widest row text: tmux shows no menu wider than the terminal.
    width: usize,
}

impl Menu {
    pub fn new(title: &str) -> Menu {
        Menu {
            title: title.to_string(),
            rows: Vec::new(),
            width: MAX_LABEL,
        }
    }

    /// Keeps rows to `columns` characters (and never more than [`MAX_LABEL`]).
    pub fn fit(&mut self, columns: usize) -> &mut Menu {
        self.width = columns.clamp(10, MAX_LABEL);
        self
    }

    /// Adds a choice running `command` (a tmux command as arguments).
    pub fn item(&mut self, name: &str, key: &str, command: Vec<String>) -> &mut Menu {
        self.rows.push(Row::Item {
            name: name.to_string(),
            key: key.to_string(),
            command,
        });
        self
    }

    /// Adds a line that cannot be chosen.
    pub fn note(&mut self, text: &str) -> &mut Menu {
        self.rows.push(Row::Note(text.to_string()));
        self
    }

    pub fn separator(&mut self) -> &mut Menu {
        if !matches!(self.rows.last(), None | Some(Row::Separator)) {
            self.rows.push(Row::Separator);
        }
        self
    }

    /// The `display-menu` command showing this menu on `client`, its
    /// commands run against `pane`.
    pub fn command(&self, client: Option<&str>, pane: Option<&str>) -> Vec<String> {
        let mut argv = vec!["display-menu".to_string()];
        if let Some(client) = client {
            argv.extend(["-c".to_string(), client.to_string()]);
        }
        if let Some(pane) = pane {
            argv.extend(["-t".to_string(), pane.to_string()]);
        }
        argv.extend([
            "-T".to_string(),
            format!(
                "#[align=centre]{}",
                tmux::escape_format(&label(&self.title))
            ),
            "-x".to_string(),
            "C".to_string(),
            "-y".to_string(),
            "C".to_string(),
            // A disabled row's name starts with `-`: not a flag.
            "--".to_string(),
        ]);
        let mut rows = self.rows.clone();
        while matches!(rows.last(), Some(Row::Separator)) {
            rows.pop();
        }
        for row in rows {
            match row {
                Row::Item { name, key, command } => {
                    let mut name = tmux::escape_format(&fitted(&name, self.width));
                    // A leading `-` would make the item a disabled one.
                    if name.starts_with('-') {
                        name.insert(0, ' ');
                    }
                    argv.push(name);
                    argv.push(key);
                    argv.push(tmux::escape_format(&command_text(&command)));
                }
                Row::Note(text) => {
                    argv.push(format!(
                        "-{}",
                        tmux::escape_format(&fitted(&text, self.width))
                    ));
                    argv.push(String::new());
                    argv.push(String::new());
                }
                Row::Separator => argv.push(String::new()),
            }
        }
        argv
    }
}

/// A tmux command as text tmux's parser reads back into the same
/// arguments: words with anything but safe characters single-quoted.
pub fn command_text(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            // `%` starting a line is a directive (`%if`) to tmux's parser.
            if is_plain(word) && !word.starts_with('%') {
                word.clone()
            } else {
                tmux::quote(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A word that reads the same to tmux's parser and to `/bin/sh` unquoted.
fn is_plain(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./%@:,+".contains(c))
}

/// [`command_text`] for people: a `display-menu` gets one line per row,
/// joined with tmux's line continuation (still valid tmux syntax).
pub fn printable(argv: &[String]) -> String {
    if argv.first().map(String::as_str) != Some("display-menu") {
        return command_text(argv);
    }
    // Options come first; the rows start after `--` (see Menu::command).
    let rows_at = argv
        .iter()
        .position(|word| word == "--")
        .map_or(argv.len(), |end| end + 1);
    let mut lines = vec![command_text(&argv[..rows_at.min(argv.len())])];
    let mut rest = &argv[rows_at.min(argv.len())..];
    while let Some(first) = rest.first() {
        let take = if first.is_empty() {
            1
        } else {
            3.min(rest.len())
        };
        lines.push(format!("  {}", command_text(&rest[..take])));
        rest = &rest[take..];
    }
    lines.join(" \\\n")
}

/// `run-shell -b` running `program` with `args` through `/bin/sh`: each
/// word shell-quoted, then `#` escaped because run-shell expands its
/// command as a format.
pub fn run_shell(program: &Path, args: &[String]) -> Vec<String> {
    vec![
        "run-shell".to_string(),
        "-b".to_string(),
        tmux::escape_format(&shell_line(program, args)),
    ]
}

/// `program args…` as a `/bin/sh` command line (for `run-shell` and
/// `display-popup`, which take one shell command): plain words as they
/// are, others single-quoted.
pub fn shell_line(program: &Path, args: &[String]) -> String {
    std::iter::once(program.to_string_lossy().into_owned())
        .chain(args.iter().cloned())
        .map(|word| {
            if is_plain(&word) {
                word
            } else {
                // The same quoting as tmux's: `'` closed, escaped, reopened.
                tmux::quote(&word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text for one menu row: on one line, and long text cut with `…`.
pub fn label(text: &str) -> String {
    fitted(text, MAX_LABEL)
}

fn fitted(text: &str, width: usize) -> String {
    crate::output::truncate(one_line(text).trim_end(), width)
}

/// Control characters (newlines, escapes) become spaces.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_commands_are_escaped_for_formats_and_the_parser() {
        let mut menu = Menu::new("pro#ject");
        menu.item(
            "-x #{pane_id} it's\n$(boom)",
            "1",
            vec![
                "display-message".into(),
                "it's #{host}; $(x)".into(),
                "a;".into(),
            ],
        );
        menu.note("no #{tasks}");
        menu.separator();
        let argv = menu.command(Some("/dev/pts/1"), Some("%3"));
        assert_eq!(
            argv,
            [
                "display-menu",
                "-c",
                "/dev/pts/1",
                "-t",
                "%3",
                "-T",
                "#[align=centre]pro##ject",
                "-x",
                "C",
                "-y",
                "C",
                "--",
                " -x ##{pane_id} it's $(boom)",
                "1",
                "display-message 'it'\\''s ##{host}; $(x)' 'a;'",
                "-no ##{tasks}",
                "",
                "",
            ]
        );
    }

    #[test]
    fn command_text_quotes_what_the_parser_would_read_differently() {
        let argv: Vec<String> = ["switch-client", "-t", "@3", "x y", "", "~", "a;b"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            command_text(&argv),
            "switch-client -t @3 'x y' '' '~' 'a;b'"
        );
    }

    #[test]
    fn printable_menus_have_a_row_per_line() {
        let mut menu = Menu::new("t");
        menu.item("A", "a", vec!["x".into()])
            .separator()
            .note("n")
            .item("B", "", vec!["y".into()]);
        assert_eq!(
            printable(&menu.command(None, None)),
            "display-menu -T '#[align=centre]t' -x C -y C -- \\\n  A a x \\\n  '' \\\n  -n '' '' \\\n  B '' y"
        );
    }

    #[test]
    fn run_shell_quotes_for_the_shell_then_escapes_formats() {
        let argv = run_shell(
            Path::new("/opt/my bin/scopecraft-tmux"),
            &["--project".into(), "/p/it's #1".into()],
        );
        assert_eq!(argv[..2], ["run-shell", "-b"]);
        assert_eq!(
            argv[2],
            "'/opt/my bin/scopecraft-tmux' --project '/p/it'\\''s ##1'"
        );
    }

    #[test]
    fn rows_fit_a_narrow_client() {
        let mut menu = Menu::new("t");
        menu.item(&"x".repeat(60), "", vec!["y".into()])
            .note(&"n".repeat(60));
        menu.fit(30);
        let argv = menu.command(None, None);
        assert_eq!(argv[argv.len() - 6].chars().count(), 30);
        assert_eq!(argv[argv.len() - 3].chars().count(), 31, "`-` and 30");
    }

    #[test]
    fn labels_are_one_line_and_short() {
        assert_eq!(label("a\nb\tc\u{1b}[31m"), "a b c [31m");
        assert_eq!(label(&"x".repeat(100)).chars().count(), MAX_LABEL);
    }
}
