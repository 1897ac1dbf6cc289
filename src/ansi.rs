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
