//! ChannelCoder's prompt template language, rendered the way mode authors
//! mean it.
//!
//! `{var}`, `${var}`, `{a.b}`, `{cond ? "a" : "b"}` with `== === != !==`,
//! `!`, `&&`, `||`, `+`, string and template literals, and `\{` / `\${`
//! escapes. A brace renders only when every variable it names is *known*
//! (declared under `input:`, given as data, or built in); a known variable
//! without a value renders empty. Any other brace text stays exactly as
//! written, so placeholders meant for the agent (`{subtaskId}`,
//! `{what you found}`) and code samples (`import { x } from`) survive.
//!
//! Where ChannelCoder renders the real mode files wrongly, this renders what
//! the author meant: a template literal inside a ternary, `+` concatenation
//! with `\n` escapes, and `{if:x}…{/if}` blocks. Inserted values are never
//! scanned again.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

/// The rendered text and the known variables the template referenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub used: BTreeSet<String>,
}

/// Renders `template` with `data`; `declared` names the `input:` variables,
/// which are known even without a value.
pub fn render<'a>(
    template: &str,
    data: &Map<String, Value>,
    declared: impl IntoIterator<Item = &'a str>,
) -> Rendered {
    let mut known: HashSet<&str> = declared.into_iter().collect();
    known.extend(data.keys().map(String::as_str));
    let mut renderer = Renderer {
        data,
        known: &known,
        used: BTreeSet::new(),
        if_pairs: pair_if_tags(template),
    };
    let mut text = String::with_capacity(template.len());
    renderer.render_into(template, 0, 0, &mut text);
    Rendered {
        text,
        used: renderer.used,
    }
}

struct Renderer<'a> {
    data: &'a Map<String, Value>,
    known: &'a HashSet<&'a str>,
    used: BTreeSet<String>,
    /// [`pair_if_tags`] of the whole template.
    if_pairs: HashMap<usize, usize>,
}

impl Renderer<'_> {
    /// Renders `src`, which starts `offset` bytes into the template, inside
    /// `depth` `{if:…}` blocks.
    fn render_into(&mut self, src: &str, offset: usize, depth: usize, out: &mut String) {
        let mut i = 0;
        while i < src.len() {
            let rest = &src[i..];
            if let Some(after) = rest.strip_prefix("\\${") {
                out.push_str("${");
                i = src.len() - after.len();
            } else if let Some(after) = rest.strip_prefix("\\{") {
                out.push('{');
                i = src.len() - after.len();
            } else if rest.starts_with("{if:")
                && let Some(consumed) = self.if_block(src, offset, i, depth, out)
            {
                i += consumed;
            } else if rest.starts_with("${")
                && let Some((text, len)) = self.placeholder(&rest[1..])
            {
                out.push_str(&text);
                i += 1 + len;
            } else if rest.starts_with('{')
                && let Some((text, len)) = self.placeholder(rest)
            {
                out.push_str(&text);
                i += len;
            } else {
                let c = rest.chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }

    /// `rest` starts with `{`: the rendered value and the length consumed,
    /// or `None` to keep the brace as written.
    fn placeholder(&mut self, rest: &str) -> Option<(String, usize)> {
        let (expr, len) = parse_braced(rest)?;
        let mut names = Vec::new();
        expr.variables(&mut names);
        if names.is_empty() || names.iter().any(|name| !self.known.contains(name)) {
            return None;
        }
        self.used
            .extend(names.iter().map(|name| (*name).to_string()));
        Some((self.eval(&expr).to_text(), len))
    }

    /// `{if:name}…{/if}` at `start`: renders the inside when `name` is truthy.
    /// A tag alone on its line takes its line break (`\n` or `\r\n`) with
    /// it, so a false block leaves no blank lines. A block nested deeper than
    /// [`MAX_DEPTH`] stays as written. Returns the bytes consumed.
    fn if_block(
        &mut self,
        src: &str,
        offset: usize,
        start: usize,
        depth: usize,
        out: &mut String,
    ) -> Option<usize> {
        // Only what a name can hold is scanned for the tag's `}`: an
        // unclosed `{if:` costs no more than its own bytes.
        let name_start = start + "{if:".len();
        let open_end = name_start
            + src[name_start..].find(|c: char| {
                !(c.is_ascii_alphanumeric() || "_$.".contains(c) || c.is_whitespace())
            })?;
        if !src[open_end..].starts_with('}') {
            return None;
        }
        let name = src[name_start..open_end].trim();
        if !is_path(name) {
            return None;
        }
        let body_start = open_end + 1;
        let body_end = self
            .if_pairs
            .get(&(offset + start))?
            .checked_sub(offset)
            .filter(|end| {
                src.get(*end..)
                    .is_some_and(|rest| rest.starts_with("{/if}"))
            })?;
        let close_end = body_end + "{/if}".len();
        if depth >= MAX_DEPTH {
            out.push_str(&src[start..close_end]);
            return Some(close_end - start);
        }
        let root = name.split('.').next().unwrap_or(name);
        let condition = if self.known.contains(root) {
            self.used.insert(root.to_string());
            lookup(self.data, name).is_truthy()
        } else {
            false
        };
        let line_start = start == 0 || src[..start].ends_with('\n');
        let mut body_from = body_start;
        if line_start {
            body_from += line_break(&src[body_from..]);
        }
        let mut consumed_to = close_end;
        if src[..body_end].ends_with('\n') {
            consumed_to += line_break(&src[consumed_to..]);
        }
        if condition {
            let body = &src[body_from..body_end.max(body_from)];
            self.render_into(body, offset + body_from, depth + 1, out);
        }
        Some(consumed_to - start)
    }

    fn eval(&mut self, expr: &Expr) -> Val {
        match expr {
            Expr::Literal(value) => value.clone(),
            Expr::Path(path) => lookup(self.data, path),
            Expr::Template(parts) => {
                let mut text = String::new();
                for part in parts {
                    match part {
                        TemplatePart::Text(t) => text.push_str(t),
                        TemplatePart::Expr(e) => text.push_str(&self.eval(e).to_text()),
                    }
                }
                Val::Str(text)
            }
            Expr::Not(inner) => Val::Bool(!self.eval(inner).is_truthy()),
            Expr::Binary(op, left, right) => {
                let left_value = self.eval(left);
                match op {
                    BinOp::And if !left_value.is_truthy() => left_value,
                    BinOp::And => self.eval(right),
                    BinOp::Or if left_value.is_truthy() => left_value,
                    BinOp::Or => self.eval(right),
                    _ => {
                        let right_value = self.eval(right);
                        binary(*op, &left_value, &right_value)
                    }
                }
            }
            Expr::Ternary(cond, then, otherwise) => {
                if self.eval(cond).is_truthy() {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
        }
    }
}

/// Every `{if:` paired with its `{/if}` as brackets, by byte offset in the
/// template, in one pass: a block's end is looked up, not searched for again
/// from every opening tag. A `{if:` that opens no block (escaped, or
/// without a name) still takes a `{/if}`, as it always has.
fn pair_if_tags(template: &str) -> HashMap<usize, usize> {
    let mut pairs = HashMap::new();
    let mut open = Vec::new();
    for (at, _) in template.match_indices('{') {
        let rest = &template[at..];
        if rest.starts_with("{if:") {
            open.push(at);
        } else if rest.starts_with("{/if}")
            && let Some(opening) = open.pop()
        {
            pairs.insert(opening, at);
        }
    }
    pairs
}

/// The length of the line break `text` starts with: `\n`, `\r\n`, or none.
fn line_break(text: &str) -> usize {
    if text.starts_with("\r\n") {
        2
    } else {
        usize::from(text.starts_with('\n'))
    }
}

/// `name` or `name.key.key`; keys after the first may start with a digit.
fn is_path(text: &str) -> bool {
    let mut parts = text.split('.');
    parts.next().is_some_and(is_identifier)
        && parts.all(|key| {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        })
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A data lookup: `a.b` walks into objects (not arrays); missing is
/// undefined. Own keys only.
fn lookup(data: &Map<String, Value>, path: &str) -> Val {
    let mut parts = path.split('.');
    let Some(first) = parts.next() else {
        return Val::Undefined;
    };
    let Some(mut value) = data.get(first) else {
        return Val::Undefined;
    };
    for part in parts {
        match value {
            Value::Object(map) => match map.get(part) {
                Some(next) => value = next,
                None => return Val::Undefined,
            },
            _ => return Val::Undefined,
        }
    }
    Val::from_json(value)
}

/// A value during evaluation, with JavaScript's kinds.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// An object or array from the data.
    Json(Value),
}

impl Val {
    fn from_json(value: &Value) -> Val {
        match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Val::Str(s.clone()),
            other => Val::Json(other.clone()),
        }
    }

    fn is_truthy(&self) -> bool {
        match self {
            Val::Undefined | Val::Null => false,
            Val::Bool(b) => *b,
            Val::Num(n) => *n != 0.0 && !n.is_nan(),
            Val::Str(s) => !s.is_empty(),
            Val::Json(_) => true,
        }
    }

    /// How a value becomes prompt text: nothing for null and undefined,
    /// pretty JSON (two-space indent, as `JSON.stringify(v, null, 2)`) for
    /// objects and arrays.
    fn to_text(&self) -> String {
        match self {
            Val::Undefined | Val::Null => String::new(),
            Val::Bool(b) => b.to_string(),
            Val::Num(n) => format_number(*n),
            Val::Str(s) => s.clone(),
            Val::Json(value) => serde_json::to_string_pretty(value).unwrap_or_default(),
        }
    }

    fn to_number(&self) -> f64 {
        match self {
            Val::Undefined | Val::Json(_) => f64::NAN,
            Val::Null => 0.0,
            Val::Bool(b) => f64::from(u8::from(*b)),
            Val::Num(n) => *n,
            Val::Str(s) if s.trim().is_empty() => 0.0,
            Val::Str(s) => s.trim().parse().unwrap_or(f64::NAN),
        }
    }
}

fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

fn binary(op: BinOp, left: &Val, right: &Val) -> Val {
    match op {
        BinOp::StrictEq => Val::Bool(strict_equal(left, right)),
        BinOp::StrictNe => Val::Bool(!strict_equal(left, right)),
        BinOp::LooseEq => Val::Bool(loose_equal(left, right)),
        BinOp::LooseNe => Val::Bool(!loose_equal(left, right)),
        BinOp::Add => match (left, right) {
            (Val::Num(a), Val::Num(b)) => Val::Num(a + b),
            _ => Val::Str(left.to_text() + &right.to_text()),
        },
        BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => {
            let ordering = match (left, right) {
                (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
                _ => left.to_number().partial_cmp(&right.to_number()),
            };
            let Some(ordering) = ordering else {
                return Val::Bool(false);
            };
            Val::Bool(match op {
                BinOp::Lt => ordering.is_lt(),
                BinOp::Gt => ordering.is_gt(),
                BinOp::Le => ordering.is_le(),
                _ => ordering.is_ge(),
            })
        }
        BinOp::And | BinOp::Or => unreachable!("short-circuited in eval"),
    }
}

fn strict_equal(left: &Val, right: &Val) -> bool {
    match (left, right) {
        (Val::Num(a), Val::Num(b)) => a == b,
        (Val::Json(_), Val::Json(_)) => false, // distinct objects in JavaScript
        _ => left == right,
    }
}

fn loose_equal(left: &Val, right: &Val) -> bool {
    match (left, right) {
        (Val::Undefined | Val::Null, Val::Undefined | Val::Null) => true,
        (Val::Undefined | Val::Null, _) | (_, Val::Undefined | Val::Null) => false,
        (Val::Str(a), Val::Str(b)) => a == b,
        (Val::Json(_), _) | (_, Val::Json(_)) => false,
        _ => left.to_number() == right.to_number(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Or,
    And,
    StrictEq,
    StrictNe,
    LooseEq,
    LooseNe,
    Lt,
    Gt,
    Le,
    Ge,
    Add,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Literal(Val),
    Path(String),
    Template(Vec<TemplatePart>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum TemplatePart {
    Text(String),
    Expr(Expr),
}

impl Expr {
    /// The root names of every variable the expression reads.
    fn variables<'e>(&'e self, names: &mut Vec<&'e str>) {
        match self {
            Expr::Literal(_) => {}
            Expr::Path(path) => names.push(path.split('.').next().unwrap_or(path)),
            Expr::Template(parts) => {
                for part in parts {
                    if let TemplatePart::Expr(e) = part {
                        e.variables(names);
                    }
                }
            }
            Expr::Not(inner) => inner.variables(names),
            Expr::Binary(_, a, b) => {
                a.variables(names);
                b.variables(names);
            }
            Expr::Ternary(a, b, c) => {
                a.variables(names);
                b.variables(names);
                c.variables(names);
            }
        }
    }
}

/// Parses `{ expression }` at the start of `src`: the expression and the
/// bytes consumed through the closing `}`.
fn parse_braced(src: &str) -> Option<(Expr, usize)> {
    let mut parser = Parser {
        src,
        pos: 1,
        depth: 0,
    };
    let expr = parser.ternary()?;
    parser.skip_space();
    parser.eat("}").then_some((expr, parser.pos))
}

/// Deeper nesting than this is not a template expression or `{if:}` block
/// anyone wrote.
const MAX_DEPTH: usize = 32;

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn nest(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn ternary(&mut self) -> Option<Expr> {
        self.nest()?;
        let cond = self.binary(0)?;
        self.skip_space();
        let expr = if self.eat("?") {
            let then = self.ternary()?;
            self.skip_space();
            if !self.eat(":") {
                return None;
            }
            let otherwise = self.ternary()?;
            Expr::Ternary(Box::new(cond), Box::new(then), Box::new(otherwise))
        } else {
            cond
        };
        self.depth -= 1;
        Some(expr)
    }

    /// Precedence climbing over `||`, `&&`, equality, comparison, `+`.
    fn binary(&mut self, level: usize) -> Option<Expr> {
        const LEVELS: &[&[(&str, BinOp)]] = &[
            &[("||", BinOp::Or)],
            &[("&&", BinOp::And)],
            &[
                ("===", BinOp::StrictEq),
                ("!==", BinOp::StrictNe),
                ("==", BinOp::LooseEq),
                ("!=", BinOp::LooseNe),
            ],
            &[
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ],
            &[("+", BinOp::Add)],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        'outer: loop {
            self.skip_space();
            for (token, op) in LEVELS[level] {
                if self.eat(token) {
                    let right = self.binary(level + 1)?;
                    left = Expr::Binary(*op, Box::new(left), Box::new(right));
                    continue 'outer;
                }
            }
            return Some(left);
        }
    }

    fn unary(&mut self) -> Option<Expr> {
        self.skip_space();
        if self.rest().starts_with('!') && !self.rest().starts_with("!=") {
            self.pos += 1;
            self.nest()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Some(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Option<Expr> {
        self.skip_space();
        let first = self.rest().chars().next()?;
        match first {
            '"' | '\'' => self.string(first).map(|s| Expr::Literal(Val::Str(s))),
            '`' => self.template_literal(),
            '(' => {
                self.pos += 1;
                let inner = self.ternary()?;
                self.skip_space();
                self.eat(")").then_some(inner)
            }
            c if c.is_ascii_digit() || c == '-' => self.number(),
            _ => {
                let len = self
                    .rest()
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.')
                    })
                    .unwrap_or(self.rest().len());
                let word = self.rest()[..len].to_string();
                if !is_path(&word) {
                    return None;
                }
                self.pos += len;
                Some(match word.as_str() {
                    "true" => Expr::Literal(Val::Bool(true)),
                    "false" => Expr::Literal(Val::Bool(false)),
                    "null" => Expr::Literal(Val::Null),
                    "undefined" => Expr::Literal(Val::Undefined),
                    _ => Expr::Path(word),
                })
            }
        }
    }

    fn number(&mut self) -> Option<Expr> {
        let rest = self.rest();
        let sign = usize::from(rest.starts_with('-'));
        let digits = rest[sign..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len() - sign);
        let text = &rest[..sign + digits];
        let value: f64 = text.parse().ok()?;
        self.pos += text.len();
        Some(Expr::Literal(Val::Num(value)))
    }

    /// A JavaScript string literal with its escapes.
    fn string(&mut self, quote: char) -> Option<String> {
        self.pos += 1;
        let mut text = String::new();
        loop {
            let c = self.rest().chars().next()?;
            self.pos += c.len_utf8();
            match c {
                c if c == quote => return Some(text),
                '\n' => return None, // JavaScript strings do not span lines
                '\\' => text.push(self.escape()?),
                c => text.push(c),
            }
        }
    }

    /// `` `text ${expr} text` ``.
    fn template_literal(&mut self) -> Option<Expr> {
        self.pos += 1;
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            let c = self.rest().chars().next()?;
            if c == '`' {
                self.pos += 1;
                break;
            }
            if self.rest().starts_with("${") {
                self.pos += 2;
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                let inner = self.ternary()?;
                self.skip_space();
                if !self.eat("}") {
                    return None;
                }
                parts.push(TemplatePart::Expr(inner));
                continue;
            }
            self.pos += c.len_utf8();
            if c == '\\' {
                text.push(self.escape()?);
            } else {
                text.push(c);
            }
        }
        if !text.is_empty() {
            parts.push(TemplatePart::Text(text));
        }
        Some(Expr::Template(parts))
    }

    /// The character after a backslash, as JavaScript reads it.
    fn escape(&mut self) -> Option<char> {
        let c = self.rest().chars().next()?;
        self.pos += c.len_utf8();
        Some(match c {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            'u' => {
                let hex = self.rest().get(..4)?;
                let code = u32::from_str_radix(hex, 16).ok()?;
                self.pos += 4;
                char::from_u32(code)?
            }
            'x' => {
                let hex = self.rest().get(..2)?;
                let code = u32::from_str_radix(hex, 16).ok()?;
                self.pos += 2;
                char::from_u32(code)?
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("test data must be an object"),
        }
    }

    fn render_with(template: &str, values: Value, declared: &[&str]) -> String {
        render(template, &data(values), declared.iter().copied()).text
    }

    #[test]
    fn plain_and_dollar_variables() {
        let d = json!({"taskId": "fix-05A", "n": 3});
        assert_eq!(
            render_with("Task {taskId}.", d.clone(), &[]),
            "Task fix-05A."
        );
        assert_eq!(
            render_with("Task ${taskId}.", d.clone(), &[]),
            "Task fix-05A."
        );
        assert_eq!(render_with("{ taskId }", d.clone(), &[]), "fix-05A");
        assert_eq!(render_with("{n}", d, &[]), "3");
    }

    #[test]
    fn known_without_value_renders_empty() {
        assert_eq!(render_with("[{parentId}]", json!({}), &["parentId"]), "[]");
        assert_eq!(render_with("[{p}]", json!({"p": null}), &[]), "[]");
    }

    #[test]
    fn unknown_brace_text_stays_as_written() {
        let d = json!({"taskId": "t"});
        for text in [
            "{subtaskId}",
            "{what you found in metadata}",
            "{COMPLETED|BLOCKED|PARTIAL}",
            "import { useQuery } from 'x';",
            "{/* Component content */}",
            "{\"method\":\"task_list\",\"params\":{}}",
            "interface P {\n  task: Task;\n  onUpdate?: (t: Task) => void;\n}",
            "const p = `../${projectName}.worktrees`;",
            "{}",
            "{true}",
            "{1}",
            "{!name}",
        ] {
            assert_eq!(render_with(text, d.clone(), &[]), text, "{text}");
        }
    }

    #[test]
    fn braces_inside_code_still_render_known_variables() {
        let d = json!({"taskId": "t-1"});
        assert_eq!(
            render_with("if (x) {\n  log(\"{taskId}\")\n}", d, &[]),
            "if (x) {\n  log(\"t-1\")\n}"
        );
    }

    #[test]
    fn nested_paths_walk_objects_only() {
        let d = json!({"a": {"b": {"c": "deep"}}, "arr": [1, 2]});
        assert_eq!(render_with("{a.b.c}", d.clone(), &[]), "deep");
        assert_eq!(render_with("[{a.x.y}]", d.clone(), &[]), "[]");
        assert_eq!(render_with("[{arr.0}]", d, &[]), "[]");
    }

    #[test]
    fn objects_render_as_pretty_json() {
        let d = json!({"o": {"k": [1, "two"]}, "e": []});
        assert_eq!(
            render_with("{o}", d.clone(), &[]),
            "{\n  \"k\": [\n    1,\n    \"two\"\n  ]\n}"
        );
        assert_eq!(render_with("{e}", d, &[]), "[]");
    }

    #[test]
    fn ternaries_with_comparisons_and_negation() {
        let d = json!({"auto": "true", "empty": "", "n": 5});
        assert_eq!(
            render_with(r#"{auto === "true" ? "A" : "I"}"#, d.clone(), &[]),
            "A"
        );
        assert_eq!(
            render_with(r#"{auto == "false" ? "A" : "I"}"#, d.clone(), &[]),
            "I"
        );
        assert_eq!(
            render_with(r#"{auto !== "true" ? "A" : "I"}"#, d.clone(), &[]),
            "I"
        );
        assert_eq!(
            render_with(r#"{auto != "x" ? 'A' : 'I'}"#, d.clone(), &[]),
            "A"
        );
        assert_eq!(
            render_with(r#"{!empty ? "none" : empty}"#, d.clone(), &[]),
            "none"
        );
        assert_eq!(render_with(r#"{empty ? "a" : "b"}"#, d.clone(), &[]), "b");
        assert_eq!(
            render_with(r#"{n > 3 ? "big" : "small"}"#, d.clone(), &[]),
            "big"
        );
        assert_eq!(
            render_with(r#"{auto && n ? "both" : "no"}"#, d.clone(), &[]),
            "both"
        );
        assert_eq!(render_with(r#"{empty || "fallback"}"#, d, &[]), "fallback");
    }

    #[test]
    fn declared_but_absent_variable_is_falsy() {
        let text = r#"{auto === "true" ? "Autonomous" : "Interactive"}"#;
        assert_eq!(render_with(text, json!({}), &["auto"]), "Interactive");
        // Not declared and not given: not a template expression of ours.
        assert_eq!(render_with(text, json!({}), &[]), text);
    }

    #[test]
    fn template_literal_inside_a_ternary() {
        let text = "{parentId ? `Parent: ${parentId}` : ''}";
        assert_eq!(
            render_with(text, json!({"parentId": "p-06A"}), &[]),
            "Parent: p-06A"
        );
        assert_eq!(render_with(text, json!({"parentId": ""}), &[]), "");
    }

    #[test]
    fn concatenation_with_escapes() {
        let text = r#"{extra ? "<x>\n" + extra + "\n</x>\n\n" : ""}<next>"#;
        assert_eq!(
            render_with(text, json!({"extra": "Be careful."}), &[]),
            "<x>\nBe careful.\n</x>\n\n<next>"
        );
        assert_eq!(render_with(text, json!({"extra": ""}), &[]), "<next>");
    }

    #[test]
    fn if_blocks_render_or_vanish_with_their_lines() {
        let text = "Before\n{if:context}\nAdditional context: {context}\n{/if}\nAfter\n";
        assert_eq!(
            render_with(text, json!({"context": "ctx"}), &["context"]),
            "Before\nAdditional context: ctx\nAfter\n"
        );
        assert_eq!(
            render_with(text, json!({}), &["context"]),
            "Before\nAfter\n"
        );
        assert_eq!(
            render_with("a {if:x}yes{/if} b", json!({"x": true}), &[]),
            "a yes b"
        );
        assert_eq!(
            render_with("{if:x}1{if:y}2{/if}3{/if}", json!({"x": 1, "y": 0}), &[]),
            "13"
        );
    }

    #[test]
    fn if_blocks_nest_to_max_depth_and_deeper_ones_stay_as_written() {
        let nested =
            |depth: usize| format!("{}core{}", "{if:x}".repeat(depth), "{/if}".repeat(depth));
        let d = json!({"x": true});
        assert_eq!(render_with(&nested(MAX_DEPTH), d.clone(), &[]), "core");
        // One level too deep: the innermost block is kept as it is written.
        assert_eq!(
            render_with(&nested(MAX_DEPTH + 1), d.clone(), &[]),
            "{if:x}core{/if}"
        );
        // 200,000 levels used to overflow the stack.
        let deep = 200_000;
        let kept = deep - MAX_DEPTH;
        assert_eq!(
            render_with(&nested(deep), d, &[]),
            format!("{}core{}", "{if:x}".repeat(kept), "{/if}".repeat(kept))
        );
        assert_eq!(render_with(&nested(deep), json!({"x": false}), &[]), "");
    }

    #[test]
    fn unmatched_if_tags_stay_as_written_in_linear_time() {
        // Each `{if:` used to rescan the rest of the text for its `{/if}`
        // (and its `}`): half a megabyte took seconds.
        for unit in ["{if:x}", "{if:", "{if:x} ", "{if:x}{if:y}\n"] {
            let text = unit.repeat(550_000 / unit.len());
            assert_eq!(render_with(&text, json!({"x": 1}), &[]), text, "{unit}");
        }
        let text = format!("{}{{/if}}", "{if:x}\n".repeat(100_000));
        let rendered = render_with(&text, json!({"x": 1}), &[]);
        assert_eq!(rendered, "{if:x}\n".repeat(99_999));
        let siblings = "{if:x}a{/if}".repeat(50_000);
        assert_eq!(
            render_with(&siblings, json!({"x": 1}), &[]),
            "a".repeat(50_000)
        );
    }

    #[test]
    fn if_tags_alone_on_crlf_lines_vanish_with_their_line_breaks() {
        let text = "Before\r\n{if:context}\r\nAdditional context: {context}\r\n{/if}\r\nAfter\r\n";
        assert_eq!(
            render_with(text, json!({"context": "ctx"}), &["context"]),
            "Before\r\nAdditional context: ctx\r\nAfter\r\n"
        );
        assert_eq!(
            render_with(text, json!({}), &["context"]),
            "Before\r\nAfter\r\n"
        );
        // A lone `\r` is not a line break.
        assert_eq!(
            render_with("a\n{if:x}\rb{/if}\r", json!({"x": 1}), &[]),
            "a\n\rb\r"
        );
    }

    #[test]
    fn escapes_keep_braces_literal() {
        let d = json!({"name": "Ann"});
        assert_eq!(render_with(r"\{name}", d.clone(), &[]), "{name}");
        assert_eq!(render_with(r"\${name}", d.clone(), &[]), "${name}");
        assert_eq!(render_with(r"\}", d, &[]), r"\}");
    }

    #[test]
    fn inserted_values_are_not_scanned_again() {
        let d = json!({"a": "${b} {b}", "b": "B"});
        assert_eq!(render_with("{a}", d, &[]), "${b} {b}");
    }

    #[test]
    fn records_the_variables_used() {
        let rendered = render(
            "{taskInstruction} {x ? y : 'z'} {unknown}",
            &data(json!({"taskInstruction": "do", "x": 1, "y": 2})),
            [],
        );
        let used: Vec<&str> = rendered.used.iter().map(String::as_str).collect();
        assert_eq!(used, ["taskInstruction", "x", "y"]);
    }

    #[test]
    fn deep_nesting_is_left_alone() {
        let text = format!("{{{}x}}", "!".repeat(100));
        assert_eq!(render_with(&text, json!({"x": 1}), &[]), text);
    }

    #[test]
    fn numbers_format_like_javascript() {
        assert_eq!(format_number(1.0), "1");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(-0.25), "-0.25");
    }
}

#[cfg(test)]
mod channelcoder_tests;
