//! keepalived's definitions (`$NAME=VALUE`) and their substitution into lines (`$NAME`,
//! `${NAME}`), with the pre-defined ones (`${_PWD}`, `${_INSTANCE}`, `${_RANDOM MIN MAX}`,
//! `${_HASH}`, `${_BANG}` and 2.4's `${_ENV VAR}`).
//!
//! The rules are keepalived's (lib/parser.c, `find_definition` and `replace_param`): a name is
//! `[A-Za-z_][A-Za-z0-9_]*`; `$NAME` must be followed by white space, `,`, `)` or the end of
//! the line, `${NAME}` by anything; a name that is not defined stays as it is, so a `$` in a
//! script is left alone. Substitution happens where a definition is used, not where it is
//! defined, and its result is scanned again from the same place, so a value may use other
//! definitions. A multi-line definition is only expanded at the end of a line: its first line
//! takes the place of the reference, the others follow as lines of their own.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::path::Path;

/// More substitutions than this on one line are taken for a definition that uses itself
/// without growing, on which keepalived loops for ever.
const MAX_SUBSTITUTIONS: usize = 256;

/// keepalived reads lines into a buffer of 1,024 bytes (`MAXBUF`, its NUL included) and stops
/// substituting where the line would not fit: such a line is refused here.
const MAX_LINE: usize = 1023;

/// What a name stands for.
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    /// A multi-line definition: each line is read as a line of the configuration.
    Lines(Vec<String>),
    Builtin(Builtin),
}

/// The pre-defined definitions whose value is worked out where they are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    /// The directory of the file being read (keepalived changes into it to read it).
    Pwd,
    /// The configuration id (`-i`).
    Instance,
    /// A random integer in `[MIN, MAX]`, by default `[0, 32767]`.
    Random,
    /// An environment variable (keepalived 2.4).
    Env,
}

impl Builtin {
    /// How many parameters `${NAME P...}` takes: (least, most, numbers only).
    fn parameters(self) -> (usize, usize, bool) {
        match self {
            Builtin::Pwd | Builtin::Instance => (0, 0, false),
            Builtin::Random => (0, 2, true),
            Builtin::Env => (1, 1, false),
        }
    }
}

/// The definitions in force at a point of the configuration.
#[derive(Debug, Clone)]
pub struct Definitions {
    values: HashMap<String, Value>,
    config_id: String,
}

/// A line after substitution.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Substituted {
    pub text: String,
    /// The other lines of the multi-line definitions used, to be read after `text`.
    pub following: Vec<String>,
    /// How many references were substituted: keepalived reads the line again only if any.
    pub count: usize,
}

/// A reference found in a line: `$NAME` or `${NAME PARAMS}` at `start..end`.
struct Reference<'t> {
    start: usize,
    end: usize,
    name: &'t str,
    params: Vec<&'t str>,
    at_end: bool,
}

impl Definitions {
    /// The pre-defined definitions, with `config_id` as `${_INSTANCE}`.
    pub fn new(config_id: &str) -> Self {
        let mut values = HashMap::new();
        values.insert("_PWD".to_string(), Value::Builtin(Builtin::Pwd));
        values.insert("_INSTANCE".to_string(), Value::Builtin(Builtin::Instance));
        values.insert("_RANDOM".to_string(), Value::Builtin(Builtin::Random));
        values.insert("_ENV".to_string(), Value::Builtin(Builtin::Env));
        values.insert("_HASH".to_string(), Value::Text("#".to_string()));
        values.insert("_BANG".to_string(), Value::Text("!".to_string()));
        Self {
            values,
            config_id: config_id.to_string(),
        }
    }

    /// Defines (or redefines, pre-defined names too) `name` as one line of text.
    pub fn set(&mut self, name: &str, value: &str) {
        self.values
            .insert(name.to_string(), Value::Text(value.to_string()));
    }

    /// Defines `name` as several lines.
    pub fn set_lines(&mut self, name: &str, lines: Vec<String>) {
        self.values.insert(name.to_string(), Value::Lines(lines));
    }

    /// `text` with every definition in it substituted; `dir` is the directory of the file
    /// being read, for `${_PWD}`. `Err` says why the line cannot be expanded.
    pub fn substitute(&self, text: &str, dir: &Path) -> Result<Substituted, String> {
        let mut out = Substituted {
            text: text.to_string(),
            ..Substituted::default()
        };
        let mut from = 0;
        while let Some(offset) = out.text[from..].find('$') {
            let at = from + offset;
            let Some(reference) = self.reference(&out.text, at)? else {
                from = at + 1;
                continue;
            };
            out.count += 1;
            if out.count > MAX_SUBSTITUTIONS {
                return Err(format!(
                    "more than {MAX_SUBSTITUTIONS} substitutions on one line: does a definition use itself?"
                ));
            }
            let (first, rest) = self.value_of(&reference, dir)?;
            let ends_expansion = first.trim_start_matches([' ', '\t']).starts_with('~');
            let (start, end) = (reference.start, reference.end);
            out.text.replace_range(start..end, &first);
            out.following.splice(0..0, rest);
            if out.text.len() > MAX_LINE {
                return Err(format!(
                    "substitution makes the line longer than keepalived's {MAX_LINE} bytes"
                ));
            }
            // keepalived leaves the rest of a line that a definition turned into a `~SEQ` or
            // `~LST` for the sequence to substitute.
            if ends_expansion {
                break;
            }
            from = start;
        }
        Ok(out)
    }

    /// The defined reference starting at the `$` at `at`, if it is one.
    fn reference<'t>(&self, text: &'t str, at: usize) -> Result<Option<Reference<'t>>, String> {
        let Some(reference) = parse_reference(text, at) else {
            return Ok(None);
        };
        let Some(value) = self.values.get(reference.name) else {
            return Ok(None);
        };
        match value {
            Value::Lines(_) if !reference.at_end => Ok(None),
            Value::Text(_) | Value::Lines(_) if !reference.params.is_empty() => Ok(None),
            Value::Builtin(builtin) if !reference.params.is_empty() => {
                let (least, most, numbers) = builtin.parameters();
                if most == 0 {
                    return Ok(None);
                }
                let name = reference.name;
                if numbers
                    && !reference
                        .params
                        .iter()
                        .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(format!("${{{name}}} takes numbers only"));
                }
                let count = reference.params.len();
                if count < least || count > most {
                    return Err(format!(
                        "${{{name}}} takes {least} to {most} parameter(s), not {count}"
                    ));
                }
                Ok(Some(reference))
            }
            Value::Builtin(builtin) if builtin.parameters().0 > 0 => Err(format!(
                "${{{}}} needs a parameter: `${{{} NAME}}`",
                reference.name, reference.name
            )),
            _ => Ok(Some(reference)),
        }
    }

    /// The first line a reference is replaced by, and the lines that follow it.
    fn value_of(&self, reference: &Reference, dir: &Path) -> Result<(String, Vec<String>), String> {
        let text = match &self.values[reference.name] {
            Value::Text(text) => text.clone(),
            Value::Lines(lines) => {
                let (first, rest) = lines.split_first().map_or(("", &[][..]), |(f, r)| (f, r));
                return Ok((first.to_string(), rest.to_vec()));
            }
            Value::Builtin(Builtin::Pwd) => pwd(dir),
            Value::Builtin(Builtin::Instance) => self.config_id.clone(),
            Value::Builtin(Builtin::Random) => random(&reference.params)?.to_string(),
            Value::Builtin(Builtin::Env) => std::env::var(reference.params[0]).unwrap_or_default(),
        };
        Ok((text, Vec::new()))
    }
}

/// `${_PWD}`: `dir` as an absolute path, as keepalived's working directory while it reads a
/// file there; the empty directory of a bare file name is the working directory.
fn pwd(dir: &Path) -> String {
    let absolute = if dir.as_os_str().is_empty() {
        std::env::current_dir()
    } else {
        std::path::absolute(dir)
    };
    absolute
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

/// `${_RANDOM}`, `${_RANDOM MIN}` or `${_RANDOM MIN MAX}`.
fn random(params: &[&str]) -> Result<u64, String> {
    let number = |text: &str| {
        text.parse::<u64>()
            .map_err(|_| format!("${{_RANDOM}}: {text} is out of range"))
    };
    let min = params.first().map_or(Ok(0), |p| number(p))?;
    let max = params.get(1).map_or(Ok(32767), |p| number(p))?;
    if min > max {
        return Err(format!("${{_RANDOM {min} {max}}}: MIN is above MAX"));
    }
    let draw = std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now());
    Ok(min + draw % (max - min).saturating_add(1).max(1))
}

/// The reference at the `$` at `at`, by keepalived's rules, whether defined or not.
fn parse_reference(text: &str, at: usize) -> Option<Reference<'_>> {
    let bytes = text.as_bytes();
    let braces = bytes.get(at + 1) == Some(&b'{');
    let name_start = at + 1 + usize::from(braces);
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let first = *bytes.get(name_start)?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let mut p = name_start;
    while p < bytes.len() && is_name(bytes[p]) {
        p += 1;
    }
    let name = &text[name_start..p];
    let mut params = Vec::new();
    let end = if braces {
        let params_start = p;
        while p < bytes.len() && (is_name(bytes[p]) || bytes[p] == b' ' || bytes[p] == b'\t') {
            p += 1;
        }
        let params_text = &text[params_start..p];
        if params_text.ends_with([' ', '\t']) && !params_text.trim().is_empty() {
            return None;
        }
        if bytes.get(p) != Some(&b'}') {
            return None;
        }
        params.extend(params_text.split([' ', '\t']).filter(|p| !p.is_empty()));
        p + 1
    } else {
        if !matches!(bytes.get(p), None | Some(b' ' | b'\t' | b',' | b')')) {
            return None;
        }
        p
    };
    Some(Reference {
        start: at,
        end,
        name,
        params,
        at_end: end == text.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(definitions: &Definitions, text: &str) -> String {
        definitions
            .substitute(text, Path::new("/etc/keepalived"))
            .unwrap()
            .text
    }

    #[test]
    fn references_need_an_end_or_braces() {
        let mut d = Definitions::new("main");
        d.set("IF", "eth0");
        assert_eq!(expand(&d, "interface $IF"), "interface eth0");
        assert_eq!(expand(&d, "interface $IF # x"), "interface eth0 # x");
        assert_eq!(expand(&d, "x ($IF,$IF)"), "x (eth0,eth0)");
        assert_eq!(expand(&d, "use_vmac $IF.1"), "use_vmac $IF.1");
        assert_eq!(expand(&d, "use_vmac ${IF}.1"), "use_vmac eth0.1");
        assert_eq!(
            expand(&d, "$UNDEFINED ${UNDEFINED} $1 $"),
            "$UNDEFINED ${UNDEFINED} $1 $"
        );
    }

    #[test]
    fn values_are_substituted_where_they_are_used() {
        // keepalived.conf(5)'s example: ADDRESS_BASE uses ADDRESS_BASE_SUB as it is then.
        let mut d = Definitions::new("main");
        d.set("ADDRESS_BASE", "10.2.${ADDRESS_BASE_SUB}");
        d.set("ADDRESS_BASE_SUB", "0");
        assert_eq!(expand(&d, "${ADDRESS_BASE}.100/32"), "10.2.0.100/32");
        d.set("ADDRESS_BASE_SUB", "10");
        assert_eq!(expand(&d, "${ADDRESS_BASE}.100/32"), "10.2.10.100/32");
    }

    #[test]
    fn a_multi_line_definition_expands_only_at_the_end_of_a_line() {
        let mut d = Definitions::new("main");
        d.set_lines("BLOCK", vec!["a {".into(), "b".into(), "}".into()]);
        let out = d.substitute("x $BLOCK", Path::new("/")).unwrap();
        assert_eq!(out.text, "x a {");
        assert_eq!(out.following, ["b", "}"]);
        assert_eq!(expand(&d, "$BLOCK y"), "$BLOCK y");
    }

    #[test]
    fn pre_defined_definitions() {
        let d = Definitions::new("backup");
        assert_eq!(expand(&d, "${_INSTANCE}"), "backup");
        assert_eq!(expand(&d, "$_PWD/x"), "$_PWD/x");
        assert_eq!(expand(&d, "${_PWD}/x"), "/etc/keepalived/x");
        let here = std::env::current_dir().unwrap().display().to_string();
        let bare = d.substitute("${_PWD}", Path::new("")).unwrap().text;
        assert_eq!(bare, here);
        assert_eq!(expand(&d, "a${_HASH}b${_BANG}"), "a#b!");
        let random: u64 = expand(&d, "${_RANDOM 5 7}").parse().unwrap();
        assert!((5..=7).contains(&random), "{random}");
        assert_eq!(expand(&d, "${_RANDOM 4 4}"), "4");
        assert!(d.substitute("${_RANDOM a}", Path::new("/")).is_err());
        assert!(d.substitute("${_RANDOM 1 2 3}", Path::new("/")).is_err());
        assert_eq!(expand(&d, "${_INSTANCE 1}"), "${_INSTANCE 1}");
        assert_eq!(expand(&d, "${_ENV VIPD_SURELY_UNSET_VARIABLE}"), "");
        let path = std::env::var("PATH").unwrap();
        assert_eq!(expand(&d, "${_ENV PATH}"), path);
    }

    #[test]
    fn a_definition_using_itself_is_refused() {
        let mut d = Definitions::new("main");
        d.set("A", "x$A");
        assert!(d.substitute("$A", Path::new("/")).is_err());
    }
}
