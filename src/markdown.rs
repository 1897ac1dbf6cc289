//! Markdown documents with front matter: the `---` YAML block (mode files,
//! Scopecraft v2 tasks, where it follows the `# Title` line), the `+++` TOML
//! block (MDTM tasks), and `## ` sections outside code fences.

/// The front matter block of a document, without its delimiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontMatter<'a> {
    Yaml(&'a str),
    Toml(&'a str),
}

/// A document split into its parts. All slices borrow from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document<'a> {
    /// The `# Title` line's text when it comes before the front matter
    /// (Scopecraft v2) or opens the body.
    pub title: Option<&'a str>,
    pub front_matter: Option<FrontMatter<'a>>,
    /// How many lines of the file come before the front matter's first
    /// line: a line of the block plus this is the file's line.
    pub lines_before_front_matter: usize,
    /// Everything after the front matter (or the whole text without one).
    pub body: &'a str,
}

/// Splits `text` into title, front matter and body.
pub fn split(text: &str) -> Document<'_> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Both are slices of `text`: the lines before `front` are its newlines.
    let lines_before = |front: &str| {
        let start = (front.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        text.get(..start)
            .map_or(0, |head| head.matches('\n').count())
    };
    if let Some((front, body)) = fenced_block(text, "---") {
        return Document {
            title: first_heading(body),
            front_matter: Some(FrontMatter::Yaml(front)),
            lines_before_front_matter: lines_before(front),
            body,
        };
    }
    if let Some((front, body)) = fenced_block(text, "+++") {
        return Document {
            title: first_heading(body),
            front_matter: Some(FrontMatter::Toml(front)),
            lines_before_front_matter: lines_before(front),
            body,
        };
    }
    // Scopecraft v2: `# Title`, blank lines, then the `---` block.
    let (first_line, rest) = split_line(text);
    if let Some(title) = heading_text(first_line, 1) {
        let after_blank = rest.trim_start_matches(['\n', '\r']);
        if let Some((front, body)) = fenced_block(after_blank, "---") {
            return Document {
                title: Some(title),
                front_matter: Some(FrontMatter::Yaml(front)),
                lines_before_front_matter: lines_before(front),
                body,
            };
        }
        return Document {
            title: Some(title),
            front_matter: None,
            lines_before_front_matter: 0,
            body: rest,
        };
    }
    Document {
        title: first_heading(text),
        front_matter: None,
        lines_before_front_matter: 0,
        body: text,
    }
}

/// Why the front matter is not YAML, at the file's line and column
/// (`unclosed bracket '[' at line 5, column 7`), the block starting after
/// `lines_before` lines of the file.
pub fn yaml_error(err: &serde_saphyr::Error, lines_before: usize) -> String {
    let mut options = serde_saphyr::RenderOptions::default();
    options.snippets = serde_saphyr::SnippetMode::Off;
    options.line_offset = lines_before as u64;
    let text = err.render_with_options(options);
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// `text` opening with a `delimiter` line and holding a closing one: the
/// block between them, and what follows the closing line.
fn fenced_block<'a>(text: &'a str, delimiter: &str) -> Option<(&'a str, &'a str)> {
    let (first, rest) = split_line(text);
    if first.trim_end() != delimiter {
        return None;
    }
    let mut offset = 0;
    for raw in rest.split_inclusive('\n') {
        if raw.trim_end() == delimiter {
            return Some((&rest[..offset], &rest[offset + raw.len()..]));
        }
        offset += raw.len();
    }
    None
}

/// The first line (without its line ending) and the rest after it.
fn split_line(text: &str) -> (&str, &str) {
    match text.find('\n') {
        Some(end) => (text[..end].trim_end_matches('\r'), &text[end + 1..]),
        None => (text.trim_end_matches('\r'), ""),
    }
}

/// The text of an ATX heading of exactly `level` (`# Title` for 1).
fn heading_text(line: &str, level: usize) -> Option<&str> {
    let hashes = line.len() - line.trim_start_matches('#').len();
    if hashes != level {
        return None;
    }
    let rest = &line[hashes..];
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some(rest.trim())
}

/// The first `# ` heading among the leading non-blank lines of `body`.
fn first_heading(body: &str) -> Option<&str> {
    body.lines()
        .map(|line| line.trim_end_matches('\r'))
        .find(|line| !line.trim().is_empty())
        .and_then(|line| heading_text(line, 1))
}

/// A `## Heading` and the text up to the next `## ` (or `# `) heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section<'a> {
    pub heading: &'a str,
    pub content: &'a str,
    /// Byte range of the whole section in the body, heading line included.
    pub span: (usize, usize),
}

/// The level-2 sections of `body`, ignoring `#` lines inside code fences.
pub fn sections(body: &str) -> Vec<Section<'_>> {
    let mut found = Vec::new();
    // (heading, heading line start, content start)
    let mut open: Option<(&str, usize, usize)> = None;
    let mut fence: Option<String> = None;
    let mut offset = 0;
    for raw in body.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let start = offset;
        offset += raw.len();
        if let Some(marker) = fence_marker(line) {
            match &fence {
                Some(open_marker) if marker.starts_with(open_marker.as_str()) => fence = None,
                None => fence = Some(marker),
                Some(_) => {}
            }
            continue;
        }
        if fence.is_some() {
            continue;
        }
        let heading = heading_text(line, 2);
        if heading.is_some() || heading_text(line, 1).is_some() {
            if let Some((name, heading_start, from)) = open.take() {
                found.push(Section {
                    heading: name,
                    content: &body[from..start],
                    span: (heading_start, start),
                });
            }
            if let Some(name) = heading {
                open = Some((name, start, offset));
            }
        }
    }
    if let Some((name, heading_start, from)) = open {
        found.push(Section {
            heading: name,
            content: &body[from..],
            span: (heading_start, body.len()),
        });
    }
    found
}

/// The fence characters opening or closing a code block (```` ``` ```` or `~~~`).
fn fence_marker(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    for fence_char in ['`', '~'] {
        let count = trimmed.chars().take_while(|&c| c == fence_char).count();
        if count >= 3 {
            return Some(fence_char.to_string().repeat(count));
        }
    }
    None
}

/// The content of the section called `name` (case-insensitive), trimmed.
pub fn section<'a>(sections: &[Section<'a>], name: &str) -> Option<&'a str> {
    sections
        .iter()
        .find(|section| section.heading.eq_ignore_ascii_case(name))
        .map(|section| section.content.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_task_has_title_before_front_matter() {
        let doc = split("# Fix it\n\n---\ntype: bug\n---\n\n## Instruction\nDo.\n");
        assert_eq!(doc.title, Some("Fix it"));
        assert_eq!(doc.front_matter, Some(FrontMatter::Yaml("type: bug\n")));
        assert_eq!(doc.body, "\n## Instruction\nDo.\n");
        assert_eq!(doc.lines_before_front_matter, 3);
    }

    #[test]
    fn yaml_errors_name_the_files_line() {
        let text = "# Fix it\n\n---\ntype: bug\narea: [cli\n---\n";
        let doc = split(text);
        let Some(FrontMatter::Yaml(yaml)) = doc.front_matter else {
            panic!("no front matter");
        };
        let err = serde_saphyr::from_str::<serde_json::Value>(yaml).unwrap_err();
        let said = yaml_error(&err, doc.lines_before_front_matter);
        assert_eq!(said, "unclosed bracket '[' at line 5, column 7");
        // A BOM and CRLF line endings count as a file's lines do.
        let doc = split("\u{feff}---\r\ninput:\r\n b: [\r\n---\r\n");
        assert_eq!(doc.lines_before_front_matter, 1);
    }

    #[test]
    fn mode_file_opens_with_front_matter() {
        let doc = split("---\ninput:\n  taskId: string\n---\n\nBody {taskId}\n");
        assert_eq!(
            doc.front_matter,
            Some(FrontMatter::Yaml("input:\n  taskId: string\n"))
        );
        assert_eq!(doc.body, "\nBody {taskId}\n");
    }

    #[test]
    fn mdtm_uses_toml_front_matter_and_crlf_is_accepted() {
        let doc = split("+++\r\nid = \"T-1\"\r\n+++\r\n# Heading\r\nText\r\n");
        assert_eq!(
            doc.front_matter,
            Some(FrontMatter::Toml("id = \"T-1\"\r\n"))
        );
        assert_eq!(doc.title, Some("Heading"));
    }

    #[test]
    fn unclosed_front_matter_is_body() {
        let doc = split("---\nnot closed\n");
        assert_eq!(doc.front_matter, None);
        assert_eq!(doc.body, "---\nnot closed\n");
    }

    #[test]
    fn empty_front_matter() {
        let doc = split("---\n---\nbody");
        assert_eq!(doc.front_matter, Some(FrontMatter::Yaml("")));
        assert_eq!(doc.body, "body");
    }

    #[test]
    fn sections_skip_headings_in_code_fences() {
        let body = "\n## Instruction\nRun:\n```sh\n## not a heading\n```\n## Tasks\n- [ ] a\n";
        let found = sections(body);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].heading, "Instruction");
        assert_eq!(found[0].content, "Run:\n```sh\n## not a heading\n```\n");
        assert_eq!(section(&found, "tasks"), Some("- [ ] a"));
    }

    #[test]
    fn level_three_headings_stay_inside_their_section() {
        let found = sections("## Instruction\n### Detail\ntext\n## Log\n- x\n");
        assert_eq!(found[0].content, "### Detail\ntext\n");
        assert_eq!(found[1].heading, "Log");
    }
}
