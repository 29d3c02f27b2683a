//! The input shape's constraints on decoded parameters: required members, unknown members,
//! string length and pattern, enums, numeric ranges, list and map sizes.
//!
//! Patterns are matched whole (`^(?:…)$`), as AWS's services do: the models leave most of them
//! unanchored (`[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}` for a SageMaker name), and a search would
//! accept anything that contains one valid character. Java character classes the `regex` crate
//! lacks are translated; a pattern that still does not compile (look-around) is not checked,
//! and the checker lists it (`Contract::unchecked_patterns`).

use std::collections::{BTreeSet, HashMap};

use regex::Regex;
use serde_json::Value;

use crate::model::{shape_of, ServiceModel};
use crate::Violation;

/// Compiled patterns by source text; `None` for one the `regex` crate cannot compile.
#[derive(Debug, Default)]
pub(crate) struct Patterns {
    compiled: HashMap<String, Option<Regex>>,
    /// `service.Shape` of every pattern met that could not be checked.
    pub(crate) unchecked: BTreeSet<String>,
}

impl Patterns {
    /// Whether `value` matches `pattern` whole; `None` when the pattern cannot be compiled.
    fn matches(&mut self, pattern: &str, value: &str) -> Option<bool> {
        let regex = self.compiled.entry(pattern.to_string()).or_insert_with(|| {
            let translated = pattern
                .replace(r"\p{Print}", r"[\x20-\x7E]")
                .replace(r"\p{Alnum}", r"0-9A-Za-z");
            Regex::new(&format!("^(?:{translated})$")).ok()
        });
        regex.as_ref().map(|r| r.is_match(value))
    }
}

/// What one check walks with.
pub(crate) struct Walk<'a> {
    pub(crate) model: &'a ServiceModel,
    pub(crate) operation: &'a str,
    pub(crate) patterns: &'a mut Patterns,
    pub(crate) found: Vec<Violation>,
}

impl Walk<'_> {
    fn violation(&mut self, member: &str, value: &Value, rule: String) {
        self.found.push(Violation {
            service: self.model.service.clone(),
            operation: self.operation.to_string(),
            member: member.to_string(),
            value: shown(value),
            rule,
        });
    }

    /// Checks `value` against shape `shape_name`; `path` names it (`Tags[0].Key`).
    pub(crate) fn check(&mut self, shape_name: &str, value: &Value, path: &str) {
        let Some(shape) = self.model.shape(shape_name) else {
            return;
        };
        let kind = shape["type"].as_str().unwrap_or_default();
        let min = shape["min"].as_f64();
        let max = shape["max"].as_f64();
        let join = |name: &str| {
            if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            }
        };
        match (kind, value) {
            (_, Value::Null) => {}
            ("structure", Value::Object(fields)) => {
                let members = shape["members"].as_object();
                for required in shape["required"].as_array().into_iter().flatten() {
                    let name = required.as_str().unwrap_or_default();
                    if fields.get(name).is_none_or(Value::is_null) {
                        self.violation(
                            &join(name),
                            &Value::Null,
                            format!("required member of {shape_name} missing"),
                        );
                    }
                }
                // By name: serde_json keeps insertion order when any crate in the build enables
                // its `preserve_order` feature, and violations must come out the same either way.
                let mut named: Vec<(&String, &Value)> = fields.iter().collect();
                named.sort_by(|a, b| a.0.cmp(b.0));
                for (name, field) in named {
                    match members.and_then(|m| m.get(name)) {
                        Some(member) => self.check(shape_of(member), field, &join(name)),
                        None => self.violation(
                            &join(name),
                            field,
                            format!("not a member of {shape_name}"),
                        ),
                    }
                }
            }
            ("list", Value::Array(items)) => {
                self.size(path, value, items.len(), min, max, "items");
                for (i, item) in items.iter().enumerate() {
                    self.check(shape_of(&shape["member"]), item, &format!("{path}[{i}]"));
                }
            }
            ("map", Value::Object(entries)) => {
                self.size(path, value, entries.len(), min, max, "entries");
                for (key, item) in entries {
                    let key_value = Value::String(key.clone());
                    self.check(
                        shape_of(&shape["key"]),
                        &key_value,
                        &format!("{path}{{key}}"),
                    );
                    self.check(shape_of(&shape["value"]), item, &format!("{path}[{key:?}]"));
                }
            }
            ("string", Value::String(text)) => {
                self.size(path, value, text.chars().count(), min, max, "characters");
                if let Some(allowed) = shape["enum"].as_array() {
                    if !allowed.iter().any(|a| a.as_str() == Some(text)) {
                        let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                        self.violation(path, value, format!("must be one of {}", names.join(", ")));
                    }
                }
                if let Some(pattern) = shape["pattern"].as_str() {
                    match self.patterns.matches(pattern, text) {
                        Some(true) => {}
                        Some(false) => {
                            self.violation(path, value, format!("must match the pattern {pattern}"))
                        }
                        None => {
                            let unchecked = format!("{}.{shape_name}", self.model.service);
                            self.patterns.unchecked.insert(unchecked);
                        }
                    }
                }
            }
            ("integer" | "long" | "float" | "double", Value::Number(n)) => {
                let n = n.as_f64().unwrap_or_default();
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    self.violation(path, value, format!("must be in {}", range(min, max)));
                }
            }
            ("boolean", Value::Bool(_)) | ("timestamp" | "blob", _) => {}
            (_, _) => self.violation(path, value, format!("must be a {kind} ({shape_name})")),
        }
    }

    fn size(
        &mut self,
        path: &str,
        value: &Value,
        len: usize,
        min: Option<f64>,
        max: Option<f64>,
        unit: &str,
    ) {
        let len = len as f64;
        if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
            self.violation(
                path,
                value,
                format!("must have {} {unit}, has {len}", range(min, max)),
            );
        }
    }
}

fn range(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("{min}..={max}"),
        (Some(min), None) => format!(">= {min}"),
        (None, Some(max)) => format!("<= {max}"),
        (None, None) => "any".to_string(),
    }
}

/// A value as shown in a violation: long texts cut, their length said.
pub(crate) fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "(absent)".to_string(),
        other => other.to_string(),
    };
    let chars = text.chars().count();
    if chars > 120 {
        let head: String = text.chars().take(100).collect();
        format!("{head}… ({chars} characters)")
    } else {
        text
    }
}
