//! A filtering list on a terminal, for the plugin's popup: type to narrow
//! the list (every word must appear, case ignored), move with the arrow
//! keys (or C-n/C-p), Enter chooses, Esc goes back. Built in rather than
//! fzf so that it works, and is tested, on every machine.

use std::io::{self, Read, Write};

use anyhow::{Context, Result};

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub label: String,
    /// A disabled choice is shown dim and cannot be chosen.
    pub enabled: bool,
}

/// How a pick ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The index of the chosen line in the list given.
    Chosen(usize),
    Back,
}

/// A key, decoded from the terminal's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Backspace,
    /// C-u: clear the filter.
    Clear,
    Up,
    Down,
    PageUp,
    PageDown,
    Enter,
    Escape,
}

/// The picker's state; I/O lives in [`pick`].
#[derive(Debug)]
pub struct Picker<'a> {
    title: &'a str,
    choices: &'a [Choice],
    query: String,
    /// Position in the filtered list.
    selected: usize,
    /// First filtered line shown.
    top: usize,
}

impl<'a> Picker<'a> {
    pub fn new(title: &'a str, choices: &'a [Choice]) -> Picker<'a> {
        Picker {
            title,
            choices,
            query: String::new(),
            selected: 0,
            top: 0,
        }
    }

    /// The indices of the choices matching the filter, in list order.
    pub fn matching(&self) -> Vec<usize> {
        let words: Vec<String> = self
            .query
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        (0..self.choices.len())
            .filter(|&i| {
                let label = self.choices[i].label.to_lowercase();
                words.iter().all(|word| label.contains(word.as_str()))
            })
            .collect()
    }

    /// Applies a key; `Some` when the pick is over. `rows` is how many
    /// list lines fit on the screen.
    pub fn handle(&mut self, key: Key, rows: usize) -> Option<Outcome> {
        let count = self.matching().len();
        match key {
            Key::Char(c) => {
                self.query.push(c);
                self.selected = 0;
            }
            Key::Backspace => {
                self.query.pop();
                self.selected = 0;
            }
            Key::Clear => {
                self.query.clear();
                self.selected = 0;
            }
            Key::Up => self.selected = self.selected.saturating_sub(1),
            Key::Down => self.selected = (self.selected + 1).min(count.saturating_sub(1)),
            Key::PageUp => self.selected = self.selected.saturating_sub(rows.max(1)),
            Key::PageDown => {
                self.selected = (self.selected + rows.max(1)).min(count.saturating_sub(1));
            }
            Key::Enter => {
                let chosen = self.matching().get(self.selected).copied()?;
                return self.choices[chosen]
                    .enabled
                    .then_some(Outcome::Chosen(chosen));
            }
            Key::Escape => return Some(Outcome::Back),
        }
        if self.selected < self.top {
            self.top = self.selected;
        } else if rows > 0 && self.selected >= self.top + rows {
            self.top = self.selected + 1 - rows;
        }
        None
    }

    /// The whole screen, `height` lines of `width` columns.
    pub fn render(&self, width: usize, height: usize) -> String {
        let rows = list_rows(height);
        let matching = self.matching();
        let mut screen = String::from("\x1b[H");
        let mut line = |text: &str| {
            screen.push_str(text);
            screen.push_str("\x1b[K\r\n");
        };
        line(&format!(
            "\x1b[1m {}\x1b[0m",
            fit(self.title, width.saturating_sub(1))
        ));
        line(&format!(" > {}", fit(&self.query, width.saturating_sub(4))));
        for position in self.top..self.top + rows {
            match matching.get(position) {
                Some(&index) => {
                    let choice = &self.choices[index];
                    let text = fit(&choice.label, width.saturating_sub(2));
                    let style = match (position == self.selected, choice.enabled) {
                        (true, _) => "\x1b[7m",
                        (false, false) => "\x1b[2m",
                        (false, true) => "",
                    };
                    line(&format!("{style} {text} \x1b[0m"));
                }
                None => line(""),
            }
        }
        screen.push_str(&format!(
            "\x1b[2m {}\x1b[0m\x1b[K",
            fit(
                &format!(
                    "{}/{} · type to filter · ↑↓ move · Enter choose · Esc back",
                    matching.len(),
                    self.choices.len()
                ),
                width
            )
        ));
        screen
    }
}

/// How many list lines fit between the title, the filter and the footer.
fn list_rows(height: usize) -> usize {
    height.saturating_sub(3).max(1)
}

/// `text` without control characters, cut to `width` characters.
fn fit(text: &str, width: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::output::truncate(&clean, width.max(1))
}

/// Keys decoded from a terminal's bytes.
pub struct KeyReader<R> {
    input: R,
    /// A byte read to look past an Esc, given back on the next read.
    pending: Option<u8>,
}

impl<R: Read> KeyReader<R> {
    pub fn new(input: R) -> KeyReader<R> {
        KeyReader {
            input,
            pending: None,
        }
    }

    /// The next key; `None` at the end of input. `more` tells whether more
    /// bytes are waiting (to tell Esc alone from the start of an arrow
    /// key's sequence).
    pub fn next(&mut self, more: &mut impl FnMut() -> bool) -> io::Result<Option<Key>> {
        loop {
            let Some(byte) = self.byte()? else {
                return Ok(None);
            };
            let key = match byte {
                b'\r' | b'\n' => Key::Enter,
                0x7f | 0x08 => Key::Backspace,
                0x15 => Key::Clear,
                0x0e => Key::Down,          // C-n
                0x10 => Key::Up,            // C-p
                0x03 | 0x07 => Key::Escape, // C-c, C-g
                0x1b => {
                    if self.pending.is_none() && !more() {
                        return Ok(Some(Key::Escape));
                    }
                    match self.byte()? {
                        Some(b'[' | b'O') => match self.byte()? {
                            Some(b'A') => Key::Up,
                            Some(b'B') => Key::Down,
                            Some(b'5') => {
                                let _ = self.byte()?; // `~`
                                Key::PageUp
                            }
                            Some(b'6') => {
                                let _ = self.byte()?;
                                Key::PageDown
                            }
                            _ => continue,
                        },
                        // Esc, then another key (another Esc): both count.
                        Some(other) => {
                            self.pending = Some(other);
                            Key::Escape
                        }
                        None => Key::Escape,
                    }
                }
                byte if byte < 0x20 => continue,
                byte => {
                    // A UTF-8 character: its first byte tells its length.
                    let len = match byte {
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        0xf0..=0xf7 => 4,
                        _ => 1,
                    };
                    let mut bytes = vec![byte];
                    for _ in 1..len {
                        match self.byte()? {
                            Some(next) => bytes.push(next),
                            None => break,
                        }
                    }
                    match std::str::from_utf8(&bytes)
                        .ok()
                        .and_then(|s| s.chars().next())
                    {
                        Some(c) => Key::Char(c),
                        None => continue,
                    }
                }
            };
            return Ok(Some(key));
        }
    }

    fn byte(&mut self) -> io::Result<Option<u8>> {
        if let Some(byte) = self.pending.take() {
            return Ok(Some(byte));
        }
        let mut byte = [0u8; 1];
        loop {
            match self.input.read(&mut byte) {
                Ok(0) => return Ok(None),
                Ok(_) => return Ok(Some(byte[0])),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }
}

/// The terminal the picker runs on: raw mode while it lives, and the keys
/// read from it (kept between picks, so no key typed ahead is lost).
pub struct Terminal {
    keys: KeyReader<Stdin>,
    _raw: RawMode,
}

impl Terminal {
    pub fn open() -> Result<Terminal> {
        let raw = RawMode::enter().context("the picker needs a terminal")?;
        let mut out = io::stdout().lock();
        write!(out, "\x1b[?25l")?;
        out.flush()?;
        Ok(Terminal {
            keys: KeyReader::new(Stdin),
            _raw: raw,
        })
    }

    /// Lets the user pick one of `choices`.
    pub fn pick(&mut self, title: &str, choices: &[Choice]) -> Result<Outcome> {
        let mut out = io::stdout().lock();
        let mut picker = Picker::new(title, choices);
        write!(out, "\x1b[2J")?;
        loop {
            let (width, height) = terminal_size();
            write!(out, "{}", picker.render(width, height))?;
            out.flush()?;
            let Some(key) = self.keys.next(&mut || input_waiting(50))? else {
                return Ok(Outcome::Back);
            };
            if let Some(outcome) = picker.handle(key, list_rows(height)) {
                return Ok(outcome);
            }
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let mut out = io::stdout().lock();
        let _ = write!(out, "\x1b[2J\x1b[H\x1b[?25h");
        let _ = out.flush();
    }
}

/// Unbuffered stdin: a buffer would hide the rest of an arrow key's
/// sequence from [`input_waiting`].
struct Stdin;

impl Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: reads into a buffer we own, of its length.
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    }
}

/// Whether stdin has a byte within `millis`.
fn input_waiting(millis: i32) -> bool {
    let mut poll = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut poll, 1, millis) > 0 }
}

/// The terminal's width and height (80×24 when it cannot tell).
fn terminal_size() -> (usize, usize) {
    // SAFETY: TIOCGWINSZ fills a winsize we own.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        if libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) == 0 && size.ws_col > 0 {
            return (usize::from(size.ws_col), usize::from(size.ws_row));
        }
    }
    (80, 24)
}

/// The terminal in raw mode until dropped.
struct RawMode {
    saved: libc::termios,
}

impl RawMode {
    fn enter() -> io::Result<RawMode> {
        // SAFETY: termios calls on stdin with structures we own.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut saved) != 0 {
                return Err(io::Error::last_os_error());
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            // Keep output processing so `\n` still returns the carriage.
            raw.c_oflag |= libc::OPOST;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &raw) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(RawMode { saved })
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `enter`.
        unsafe {
            libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices(labels: &[&str]) -> Vec<Choice> {
        labels
            .iter()
            .map(|label| Choice {
                label: label.to_string(),
                enabled: !label.starts_with('!'),
            })
            .collect()
    }

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut reader = KeyReader::new(bytes);
        let mut out = Vec::new();
        loop {
            // Everything is waiting at once, as when keys are typed fast.
            match reader.next(&mut || true).unwrap() {
                Some(key) => out.push(key),
                None => return out,
            }
        }
    }

    #[test]
    fn decodes_keys() {
        assert_eq!(
            keys(b"ab\x1b[A\x1b[B\x1bOB\x7f\r\x15\x0e\x10\x03"),
            [
                Key::Char('a'),
                Key::Char('b'),
                Key::Up,
                Key::Down,
                Key::Down,
                Key::Backspace,
                Key::Enter,
                Key::Clear,
                Key::Down,
                Key::Up,
                Key::Escape
            ]
        );
        assert_eq!(keys("é".as_bytes()), [Key::Char('é')]);
        assert_eq!(keys(b"\x1b"), [Key::Escape]);
        assert_eq!(keys(b"\x1b\x1b"), [Key::Escape, Key::Escape]);
        assert_eq!(keys(b"\x1bx"), [Key::Escape, Key::Char('x')]);
        assert_eq!(keys(b"\x1b[5~\x1b[6~"), [Key::PageUp, Key::PageDown]);
    }

    #[test]
    fn filters_by_every_word_ignoring_case() {
        let list = choices(&[
            "fix-login-05A  Fix the login",
            "add-tags-06B  Add tags",
            "FIX-docs  Docs",
        ]);
        let mut picker = Picker::new("t", &list);
        for c in "fix".chars() {
            picker.handle(Key::Char(c), 10);
        }
        assert_eq!(picker.matching(), [0, 2]);
        for c in " LOG".chars() {
            picker.handle(Key::Char(c), 10);
        }
        assert_eq!(picker.matching(), [0]);
        assert_eq!(picker.handle(Key::Enter, 10), Some(Outcome::Chosen(0)));
    }

    #[test]
    fn moves_chooses_and_goes_back() {
        let list = choices(&["a", "!b disabled", "c"]);
        let mut picker = Picker::new("t", &list);
        assert_eq!(picker.handle(Key::Down, 10), None);
        assert_eq!(picker.handle(Key::Enter, 10), None, "disabled");
        picker.handle(Key::Down, 10);
        picker.handle(Key::Down, 10);
        assert_eq!(picker.handle(Key::Enter, 10), Some(Outcome::Chosen(2)));
        assert_eq!(picker.handle(Key::Escape, 10), Some(Outcome::Back));
        let mut empty = Picker::new("t", &list);
        empty.handle(Key::Char('z'), 10);
        assert_eq!(empty.handle(Key::Enter, 10), None);
    }

    #[test]
    fn renders_without_the_labels_control_characters() {
        let list = choices(&["evil\x1b]0;title\x07\nnext"]);
        let screen = Picker::new("Dispatch", &list).render(40, 6);
        assert!(!screen.contains('\x07'));
        assert!(!screen.contains("\x1b]"));
        assert!(screen.contains("evil ]0;title  next"));
    }

    #[test]
    fn scrolls_to_keep_the_selection_visible() {
        let labels: Vec<String> = (0..30).map(|i| format!("task-{i}")).collect();
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let list = choices(&refs);
        let mut picker = Picker::new("t", &list);
        for _ in 0..12 {
            picker.handle(Key::Down, 5);
        }
        let screen = picker.render(40, 8);
        assert!(screen.contains("\x1b[7m task-12 "), "{screen:?}");
        assert!(!screen.contains("task-7 "));
    }
}
