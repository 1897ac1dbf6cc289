//! Plain text from a terminal's output (what `pipe-pane` records): escape
//! sequences removed, carriage returns and blank runs tidied, fed in
//! chunks of any size so a log of any length streams through.
//!
//! It cannot replay cursor movements (a full-screen program's redraws come
//! out as repeated lines); for a pane that is still open `logs` asks tmux
//! for the rendered text instead.

use std::io::{self, Write};

/// Longest line kept before it is written out unfinished.
const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// After ESC.
    Escape,
    /// ESC followed by intermediate bytes (`ESC ( B`), until the final byte.
    EscapeIntermediate,
    /// `ESC [` … until a final byte.
    Csi,
    /// OSC, DCS, SOS, PM, APC: until BEL or `ESC \`.
    ControlString,
    /// ESC inside such a string.
    ControlStringEscape,
}

/// Strips escape sequences from terminal output fed in chunks.
#[derive(Debug)]
pub struct Stripper {
    state: State,
    /// A carriage return not yet known to start `\r\n`.
    pending_cr: bool,
    line: Vec<u8>,
    /// Blank lines written in a row.
    blanks: usize,
}

impl Default for Stripper {
    fn default() -> Self {
        Stripper::new()
    }
}

impl Stripper {
    pub fn new() -> Stripper {
        Stripper {
            state: State::Text,
            pending_cr: false,
            line: Vec::new(),
            blanks: 0,
        }
    }

    pub fn feed(&mut self, bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
        for &byte in bytes {
            match self.state {
                State::Text => self.text(byte, out)?,
                State::Escape => {
                    self.state = match byte {
                        b'[' => State::Csi,
                        b']' | b'P' | b'X' | b'^' | b'_' => State::ControlString,
                        0x20..=0x2f => State::EscapeIntermediate,
                        _ => State::Text,
                    }
                }
                State::EscapeIntermediate => {
                    if !(0x20..=0x2f).contains(&byte) {
                        self.state = State::Text;
                    }
                }
                State::Csi => match byte {
                    0x40..=0x7e => self.state = State::Text,
                    0x1b => self.state = State::Escape,
                    _ => {}
                },
                State::ControlString => match byte {
                    0x07 => self.state = State::Text,
                    0x1b => self.state = State::ControlStringEscape,
                    _ => {}
                },
                State::ControlStringEscape => {
                    self.state = if byte == b'\\' {
                        State::Text
                    } else {
                        State::ControlString
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes what is left of the last line.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.pending_cr || !self.line.is_empty() {
            self.pending_cr = false;
            self.end_line(out)?;
        }
        Ok(())
    }

    fn text(&mut self, byte: u8, out: &mut dyn Write) -> io::Result<()> {
        if self.pending_cr {
            self.pending_cr = false;
            if byte != b'\n' {
                // A lone carriage return redraws the line: keep each
                // version on a line of its own rather than lose text.
                self.end_line(out)?;
            }
        }
        match byte {
            0x1b => self.state = State::Escape,
            b'\r' => self.pending_cr = true,
            b'\n' => self.end_line(out)?,
            b'\t' => self.line.push(byte),
            0x00..=0x1f | 0x7f => {}
            _ => {
                self.line.push(byte);
                if self.line.len() >= MAX_LINE {
                    out.write_all(&self.line)?;
                    self.line.clear();
                }
            }
        }
        Ok(())
    }

    /// Writes the line without trailing blanks; at most one blank line in
    /// a row.
    fn end_line(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let kept = self.line.trim_ascii_end().len();
        if kept == 0 {
            self.blanks += 1;
            if self.blanks <= 1 {
                out.write_all(b"\n")?;
            }
        } else {
            self.blanks = 0;
            out.write_all(&self.line[..kept])?;
            out.write_all(b"\n")?;
        }
        self.line.clear();
        Ok(())
    }
}

/// Terminal text with SGR colours (what `capture-pane -e` prints) as
/// HTML: the text escaped, each run of attributes a `<span>` (the 16
/// colours as classes `f0`…`f15`/`b0`…`b15`, others as inline colours).
/// Every other escape sequence is dropped.
pub fn to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut style = Sgr::default();
    let mut open = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            if !open && !style.is_plain() {
                out.push_str(&style.span());
                open = true;
            }
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\n' | '\t' => out.push(c),
                c if c.is_control() => {}
                c => out.push(c),
            }
            continue;
        }
        match chars.next() {
            Some('[') => {
                let mut params = String::new();
                let mut last = None;
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        last = Some(c);
                        break;
                    }
                    params.push(c);
                }
                if last == Some('m') {
                    let before = style.clone();
                    style.apply(&params);
                    if open && style != before {
                        out.push_str("</span>");
                        open = false;
                    }
                }
            }
            Some(']' | 'P' | 'X' | '^' | '_') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' {
                        chars.next_if_eq(&'\\');
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    if open {
        out.push_str("</span>");
    }
    out
}

/// A colour: one of the 16 (a class) or any other (inline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colour {
    Indexed(u8),
    Rgb(u8, u8, u8),
}

/// The SGR attributes in effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Sgr {
    fg: Option<Colour>,
    bg: Option<Colour>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    inverse: bool,
}

impl Sgr {
    fn is_plain(&self) -> bool {
        *self == Sgr::default()
    }

    fn apply(&mut self, params: &str) {
        let mut codes = params
            .split([';', ':'])
            .map(|p| p.parse::<u16>().unwrap_or(0));
        if params.is_empty() {
            *self = Sgr::default();
            return;
        }
        while let Some(code) = codes.next() {
            match code {
                0 => *self = Sgr::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                7 => self.inverse = true,
                22 => (self.bold, self.dim) = (false, false),
                23 => self.italic = false,
                24 => self.underline = false,
                27 => self.inverse = false,
                30..=37 => self.fg = Some(Colour::Indexed((code - 30) as u8)),
                90..=97 => self.fg = Some(Colour::Indexed((code - 90 + 8) as u8)),
                39 => self.fg = None,
                40..=47 => self.bg = Some(Colour::Indexed((code - 40) as u8)),
                100..=107 => self.bg = Some(Colour::Indexed((code - 100 + 8) as u8)),
                49 => self.bg = None,
                38 | 48 => {
                    let colour = match codes.next() {
                        Some(5) => codes.next().map(|n| Colour::Indexed(n.min(255) as u8)),
                        Some(2) => {
                            let mut part = || codes.next().map_or(0, |n| n.min(255) as u8);
                            Some(Colour::Rgb(part(), part(), part()))
                        }
                        _ => None,
                    };
                    if code == 38 {
                        self.fg = colour;
                    } else {
                        self.bg = colour;
                    }
                }
                _ => {}
            }
        }
    }

    fn span(&self) -> String {
        let (fg, bg) = if self.inverse {
            (
                self.bg.or(Some(Colour::Indexed(0))),
                self.fg.or(Some(Colour::Indexed(7))),
            )
        } else {
            (self.fg, self.bg)
        };
        let mut classes = Vec::new();
        let mut styles = Vec::new();
        for (colour, class, property) in [(fg, 'f', "color"), (bg, 'b', "background")] {
            match colour {
                Some(Colour::Indexed(n)) if n < 16 => classes.push(format!("{class}{n}")),
                Some(Colour::Indexed(n)) => {
                    let (r, g, b) = xterm_rgb(n);
                    styles.push(format!("{property}:#{r:02x}{g:02x}{b:02x}"));
                }
                Some(Colour::Rgb(r, g, b)) => {
                    styles.push(format!("{property}:#{r:02x}{g:02x}{b:02x}"));
                }
                None => {}
            }
        }
        for (on, class) in [
            (self.bold, "bo"),
            (self.dim, "dim"),
            (self.italic, "it"),
            (self.underline, "un"),
        ] {
            if on {
                classes.push(class.to_string());
            }
        }
        let mut span = String::from("<span");
        if !classes.is_empty() {
            span.push_str(&format!(" class=\"{}\"", classes.join(" ")));
        }
        if !styles.is_empty() {
            span.push_str(&format!(" style=\"{}\"", styles.join(";")));
        }
        span.push('>');
        span
    }
}

/// The xterm 256-colour palette above the first 16: a 6×6×6 cube, then
/// 24 greys.
fn xterm_rgb(n: u8) -> (u8, u8, u8) {
    if n >= 232 {
        let grey = 8 + (n - 232) * 10;
        return (grey, grey, grey);
    }
    let n = n - 16;
    let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
    (level(n / 36), level((n / 6) % 6), level(n % 6))
}

/// Strips a whole text at once (tests, short strings).
#[cfg(test)]
pub fn strip(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    let mut stripper = Stripper::new();
    stripper.feed(bytes, &mut out).unwrap();
    stripper.finish(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_become_spans_and_text_is_escaped() {
        assert_eq!(
            to_html(
                "a \u{1b}[31mred <b>\u{1b}[0m & \u{1b}[1;38;5;196mx\u{1b}[m\u{1b}]0;title\u{7}"
            ),
            "a <span class=\"f1\">red &lt;b&gt;</span> &amp; <span class=\"bo\" style=\"color:#ff0000\">x</span>"
        );
        assert_eq!(
            to_html("\u{1b}[38;2;1;2;3;44mx\u{1b}[39my"),
            "<span class=\"b4\" style=\"color:#010203\">x</span><span class=\"b4\">y</span>"
        );
        assert_eq!(to_html("\u{1b}[7mi"), "<span class=\"f0 b7\">i</span>");
    }

    #[test]
    fn removes_colours_cursor_moves_and_titles() {
        let raw =
            b"\x1b[1;32mgreen\x1b[0m plain\r\n\x1b]0;title\x07\x1b[2K\x1b[1Agone?\x1b(B ok\r\n";
        assert_eq!(strip(raw), "green plain\ngone? ok\n");
    }

    #[test]
    fn string_sequences_end_with_st_too() {
        assert_eq!(
            strip(b"a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b\n"),
            "alinkb\n"
        );
        assert_eq!(strip(b"\x1bP+q544e\x1b\\after\n"), "after\n");
    }

    #[test]
    fn carriage_returns_and_blank_runs() {
        assert_eq!(strip(b"10%\r50%\r100%\r\n"), "10%\n50%\n100%\n");
        assert_eq!(strip(b"a   \n\n\n\n   \nb"), "a\n\nb\n");
    }

    #[test]
    fn chunk_boundaries_do_not_matter() {
        let raw = "\x1b[38;5;208mé\x1b[0m\r\nnext\x1b]0;t\x1b\\ line\r\n".as_bytes();
        let whole = strip(raw);
        for cut in 0..raw.len() {
            let mut out = Vec::new();
            let mut stripper = Stripper::new();
            stripper.feed(&raw[..cut], &mut out).unwrap();
            stripper.feed(&raw[cut..], &mut out).unwrap();
            stripper.finish(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), whole, "cut at {cut}");
        }
        assert_eq!(whole, "é\nnext line\n");
    }
}
