//! Writing to stdout without panicking on a closed pipe (`tasks | head`).

use std::borrow::Cow;
use std::io::{self, BufWriter, StdoutLock, Write};

use anyhow::Result;
use serde::Serialize;

/// A buffered, locked stdout; errors (a broken pipe) come back as values.
pub fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::new(io::stdout().lock())
}

/// Prints `value` as pretty JSON followed by a newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// `text` safe to print on a terminal: control characters (escape
/// sequences, bells, carriage returns, bidirectional overrides) shown as
/// `\u{1b}` instead of acted on. What we print from files (task titles, file
/// names, records) goes through here.
pub fn printable(text: &str) -> Cow<'_, str> {
    printable_but(text, &[])
}

/// [`printable`], keeping newlines and tabs: for messages of several
/// lines (git indents the files it names with a tab).
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    printable_but(text, &['\n', '\t'])
}

fn printable_but<'a>(text: &'a str, kept: &[char]) -> Cow<'a, str> {
    let unsafe_char = |c: char| {
        !kept.contains(&c)
            && (c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// Pads `text` with spaces to `width` characters (not bytes), its control
/// characters escaped.
pub fn pad(text: &str, width: usize) -> String {
    let text = printable(text);
    let len = text.chars().count();
    if len >= width {
        text.to_string()
    } else {
        format!("{text}{}", " ".repeat(width - len))
    }
}

/// Shortens `text` to at most `width` characters, marking the cut with `…`;
/// control characters escaped first.
pub fn truncate(text: &str, width: usize) -> String {
    let text = printable(text);
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `42s`, `5m 03s`, `2h 07m`, `3d 4h`.
pub fn duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h {:02}m", secs / 3600, (secs % 3600) / 60),
        _ => format!("{}d {}h", secs / 86400, (secs % 86400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_acted_on() {
        assert_eq!(printable("plain ✓"), "plain ✓");
        assert_eq!(
            printable("\u{1b}]0;owned\u{7}\r\u{202e}x"),
            "\\u{1b}]0;owned\\u{7}\\u{d}\\u{202e}x"
        );
        assert_eq!(printable_lines("a\nb\u{1b}"), "a\nb\\u{1b}");
        assert_eq!(
            printable_lines("files:\n\tf.txt\r"),
            "files:\n\tf.txt\\u{d}"
        );
        assert_eq!(pad("\u{7}", 8), "\\u{7}   ");
        assert!(!truncate(&"\u{1b}[2J".repeat(9), 10).contains('\u{1b}'));
    }
}
