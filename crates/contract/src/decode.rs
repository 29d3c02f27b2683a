//! A recorded request back to its operation and parameters, per protocol: JSON (`X-Amz-Target`
//! and a JSON body), query (a form with `Action`) and REST-XML (S3: method and URI template,
//! then URI labels, headers, query string and an XML payload). Decoding follows the input
//! shape, so a value arrives typed (a number where the shape says integer) and a text that
//! does not parse as its type is kept as text for the checker to name.

use std::collections::BTreeMap;

use bytes::Bytes;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::model::{shape_of, wire_name, ServiceModel};
use crate::ContractError;

/// An operation and its parameters, as the service receives them.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The operation, e.g. `CreateEndpointConfig`.
    pub operation: String,
    /// The input, keyed by member name (not wire name).
    pub params: Value,
}

/// The SigV4 signing name of a request: `Credential=<key>/<date>/<region>/<service>/...`.
pub fn signing_name(headers: &http::HeaderMap) -> Option<&str> {
    let authorization = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    credential.split([',', ' ']).next()?.split('/').nth(3)
}

/// Decodes `request` against `model`, by the protocol the request itself speaks.
pub fn decode(
    model: &ServiceModel,
    request: &http::Request<Bytes>,
) -> Result<Decoded, ContractError> {
    let unknown = |detail: String| ContractError::UnknownOperation {
        service: model.service.clone(),
        detail,
    };
    if let Some(target) = request.headers().get("x-amz-target") {
        let target = target.to_str().unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or(target).to_string();
        model
            .operation(&operation)
            .ok_or_else(|| unknown(format!("X-Amz-Target {target}")))?;
        let body = request.body();
        let params = if body.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(body).map_err(|e| ContractError::Undecodable {
                operation: operation.clone(),
                message: format!("the JSON body: {e}"),
            })?
        };
        return Ok(Decoded { operation, params });
    }
    let mut form = form_pairs(request.body());
    if !form.contains_key("Action") {
        form = form_pairs(request.uri().query().unwrap_or_default().as_bytes());
    }
    if let Some(action) = form.get("Action").cloned() {
        let shape = model
            .operation(&action)
            .map(|_| model.input_shape(&action))
            .ok_or_else(|| unknown(format!("Action={action}")))?;
        let params = match shape {
            Some(shape) => query_value(model, shape, &form, "").unwrap_or(Value::Null),
            None => Value::Object(Map::new()),
        };
        return Ok(Decoded {
            operation: action,
            params: non_null(params),
        });
    }
    rest_xml(model, request)
}

fn non_null(v: Value) -> Value {
    if v.is_null() {
        Value::Object(Map::new())
    } else {
        v
    }
}

/// A form body as key → value (`application/x-www-form-urlencoded`).
fn form_pairs(form: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(form).into_owned().collect()
}

/// A text value typed by its shape: numbers and booleans parse, everything else stays text
/// (a text where a number belongs is the checker's to name).
fn typed(model: &ServiceModel, shape: &str, text: &str) -> Value {
    let kind = model.shape(shape).and_then(|s| s["type"].as_str());
    let parsed = match kind {
        Some("integer" | "long") => text.parse::<i64>().ok().map(Value::from),
        Some("float" | "double") => text.parse::<f64>().ok().map(Value::from),
        Some("boolean") => text.parse::<bool>().ok().map(Value::from),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(text.to_string()))
}

/// The query protocol: `Member.Sub`, lists as `Name.member.N` (`Name.N` when flattened), maps
/// as `Name.entry.N.key` / `.value`.
fn query_value(
    model: &ServiceModel,
    shape_name: &str,
    form: &BTreeMap<String, String>,
    prefix: &str,
) -> Option<Value> {
    let join = |prefix: &str, name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    let shape = model.shape(shape_name)?;
    match shape["type"].as_str()? {
        "structure" => {
            let nested = format!("{prefix}.");
            if !prefix.is_empty() && !form.keys().any(|k| k.starts_with(&nested)) {
                return None;
            }
            let mut out = Map::new();
            for (name, member) in shape["members"].as_object()? {
                let key = join(prefix, wire_name(member, name));
                if let Some(v) = query_value(model, shape_of(member), form, &key) {
                    out.insert(name.clone(), v);
                }
            }
            Some(Value::Object(out))
        }
        "list" => {
            let member = &shape["member"];
            let base = if shape["flattened"].as_bool() == Some(true) {
                prefix.to_string()
            } else {
                join(prefix, wire_name(member, "member"))
            };
            let items: Vec<Value> = (1..)
                .map_while(|n| query_value(model, shape_of(member), form, &format!("{base}.{n}")))
                .collect();
            // An empty list is sent as `Name=` with no value.
            (!items.is_empty() || form.get(prefix).is_some_and(String::is_empty))
                .then_some(Value::Array(items))
        }
        "map" => {
            let base = if shape["flattened"].as_bool() == Some(true) {
                prefix.to_string()
            } else {
                join(prefix, "entry")
            };
            let (key, value) = (&shape["key"], &shape["value"]);
            let mut out = Map::new();
            for n in 1.. {
                let entry = format!("{base}.{n}");
                let Some(k) = form.get(&join(&entry, wire_name(key, "key"))) else {
                    break;
                };
                let v = query_value(
                    model,
                    shape_of(value),
                    form,
                    &join(&entry, wire_name(value, "value")),
                )
                .unwrap_or(Value::Null);
                out.insert(k.clone(), v);
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ => form.get(prefix).map(|text| typed(model, shape_name, text)),
    }
}

/// One segment of a REST URI template.
enum Segment<'a> {
    Literal(&'a str),
    Label(&'a str),
    /// `{Key+}`: the rest of the path, slashes included.
    Greedy(&'a str),
}

/// A REST operation's URI template: `/{Bucket}/{Key+}?x-id=PutObject`.
struct Template<'a> {
    segments: Vec<Segment<'a>>,
    /// Literal query parameters: `("tagging", None)`, `("list-type", Some("2"))`.
    query: Vec<(&'a str, Option<&'a str>)>,
}

impl<'a> Template<'a> {
    fn parse(uri: &'a str) -> Template<'a> {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(label) => match label.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy),
                        None => Segment::Label(label),
                    },
                    None => Segment::Literal(s),
                },
            )
            .collect();
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (p, None),
            })
            .collect();
        Template { segments, query }
    }

    /// The labels' values when `path` (raw, percent-encoded segments) fits the template.
    fn labels(&self, path: &[&str]) -> Option<BTreeMap<String, String>> {
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let mut out = BTreeMap::new();
        let mut at = 0;
        for segment in &self.segments {
            match segment {
                Segment::Literal(l) => {
                    (path.get(at)? == l).then_some(())?;
                    at += 1;
                }
                Segment::Label(name) => {
                    out.insert(name.to_string(), decode(path.get(at)?));
                    at += 1;
                }
                Segment::Greedy(name) => {
                    let rest = path.get(at..).filter(|r| !r.is_empty())?;
                    let joined: Vec<String> = rest.iter().map(|s| decode(s)).collect();
                    out.insert(name.to_string(), joined.join("/"));
                    at = path.len();
                }
            }
        }
        (at == path.len()).then_some(out)
    }
}

/// REST-XML (S3): the operation whose method and URI template fit, the most specific first
/// (`?list-type=2` before the bare `/{Bucket}`); then its members from where they travel.
fn rest_xml(
    model: &ServiceModel,
    request: &http::Request<Bytes>,
) -> Result<Decoded, ContractError> {
    let path: Vec<&str> = request
        .uri()
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let query = form_pairs(request.uri().query().unwrap_or_default().as_bytes());
    let mut best: Vec<(usize, &str, BTreeMap<String, String>)> = Vec::new();
    for (name, op) in model.operations() {
        if op["http"]["method"].as_str() != Some(request.method().as_str()) {
            continue;
        }
        let template = Template::parse(op["http"]["requestUri"].as_str().unwrap_or_default());
        let literal_query_fits = template.query.iter().all(|(k, v)| match v {
            Some(v) => query.get(*k).map(String::as_str) == Some(*v),
            None => query.contains_key(*k),
        });
        if !literal_query_fits {
            continue;
        }
        if let Some(labels) = template.labels(&path) {
            if sends_required_members(model, name, request, &query) {
                best.push((rank(name, op, &template, &query), name, labels));
            }
        }
    }
    best.sort_by_key(|b| std::cmp::Reverse(b.0));
    let unknown = || ContractError::UnknownOperation {
        service: model.service.clone(),
        detail: format!("{} {}", request.method(), request.uri()),
    };
    let (specificity, operation, labels) = best.first().ok_or_else(unknown)?;
    if best.get(1).is_some_and(|(s, _, _)| s == specificity) {
        let tied: Vec<&str> = best
            .iter()
            .filter(|(s, _, _)| s == specificity)
            .map(|(_, n, _)| *n)
            .collect();
        return Err(ContractError::UnknownOperation {
            service: model.service.clone(),
            detail: format!(
                "{} {} fits {} equally",
                request.method(),
                request.uri(),
                tied.join(", ")
            ),
        });
    }
    let operation = operation.to_string();
    let mut params = Map::new();
    let Some(input) = model.input_shape(&operation).and_then(|s| model.shape(s)) else {
        return Ok(Decoded {
            operation,
            params: Value::Object(params),
        });
    };
    let payload = input["payload"].as_str();
    for (name, member) in input["members"].as_object().into_iter().flatten() {
        let shape = shape_of(member);
        let wire = wire_name(member, name);
        let value = match member["location"].as_str() {
            Some("uri") => labels.get(wire).map(|v| typed(model, shape, v)),
            Some("querystring") => query.get(wire).map(|v| typed(model, shape, v)),
            Some("header") => request
                .headers()
                .get(wire)
                .and_then(|v| v.to_str().ok())
                .map(|v| typed(model, shape, v)),
            Some("headers") => {
                let prefix = wire.to_ascii_lowercase();
                let found: Map<String, Value> = request
                    .headers()
                    .iter()
                    .filter_map(|(k, v)| {
                        let key = k.as_str().strip_prefix(&prefix)?;
                        Some((key.to_string(), Value::String(v.to_str().ok()?.to_string())))
                    })
                    .collect();
                (!found.is_empty()).then_some(Value::Object(found))
            }
            _ if payload == Some(name.as_str()) => {
                payload_value(model, &operation, shape, request.body())?
            }
            _ => None,
        };
        if let Some(value) = value {
            params.insert(name.clone(), value);
        }
    }
    Ok(Decoded {
        operation,
        params: Value::Object(params),
    })
}

/// How well an operation whose template fits explains the request: the SDK's `x-id` naming it
/// decides; then a current operation before a deprecated one of the same template
/// (`PutBucketLifecycle`); then the more literal query parameters, the more specific.
fn rank(name: &str, op: &Value, template: &Template, query: &BTreeMap<String, String>) -> usize {
    let named = query.get("x-id").is_some_and(|id| id == name);
    let current = op["deprecated"].as_bool() != Some(true);
    usize::from(named) * 1_000 + usize::from(current) * 100 + template.query.len()
}

/// Whether the request carries every required member that travels in the query string or a
/// header: `ListParts` needs `uploadId`, `CopyObject` needs `x-amz-copy-source`, so a plain
/// `GetObject` or `PutObject` is not taken for them.
fn sends_required_members(
    model: &ServiceModel,
    operation: &str,
    request: &http::Request<Bytes>,
    query: &BTreeMap<String, String>,
) -> bool {
    let Some(input) = model.input_shape(operation).and_then(|s| model.shape(s)) else {
        return true;
    };
    input["required"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|required| {
            let name = required.as_str().unwrap_or_default();
            let member = &input["members"][name];
            let wire = wire_name(member, name);
            match member["location"].as_str() {
                Some("querystring") => query.contains_key(wire),
                Some("header") => request.headers().contains_key(wire),
                _ => true,
            }
        })
}

/// The payload member: an XML document for a structure, the text for a string, nothing
/// checked for a blob (object bytes).
fn payload_value(
    model: &ServiceModel,
    operation: &str,
    shape: &str,
    body: &[u8],
) -> Result<Option<Value>, ContractError> {
    if body.is_empty() {
        return Ok(None);
    }
    match model.shape(shape).and_then(|s| s["type"].as_str()) {
        Some("structure") => {
            let text = std::str::from_utf8(body).map_err(|e| ContractError::Undecodable {
                operation: operation.to_string(),
                message: format!("the XML payload is not UTF-8: {e}"),
            })?;
            let doc = roxmltree::Document::parse(text).map_err(|e| ContractError::Undecodable {
                operation: operation.to_string(),
                message: format!("the XML payload: {e}"),
            })?;
            Ok(xml_value(model, shape, doc.root_element()))
        }
        Some("string") => Ok(Some(Value::String(
            String::from_utf8_lossy(body).into_owned(),
        ))),
        _ => Ok(None),
    }
}

/// An XML element as its shape: members by wire name, lists wrapped (`<TagSet><Tag>`) or
/// flattened (repeated `<Rule>`), maps as `<entry><key/><value/></entry>`.
fn xml_value(model: &ServiceModel, shape_name: &str, node: roxmltree::Node) -> Option<Value> {
    let shape = model.shape(shape_name)?;
    let children = |name: &str| {
        node.children()
            .filter(move |c| c.is_element() && c.tag_name().name() == name)
            .collect::<Vec<_>>()
    };
    match shape["type"].as_str()? {
        "structure" => {
            let mut out = Map::new();
            for (name, member) in shape["members"].as_object()? {
                let member_shape = shape_of(member);
                let wire = wire_name(member, name);
                let flattened_list = model
                    .shape(member_shape)
                    .is_some_and(|s| s["type"] == "list" && s["flattened"].as_bool() == Some(true));
                let value = if flattened_list {
                    let element = model
                        .shape(member_shape)
                        .map(|s| &s["member"])
                        .map_or(shape_of(member), shape_of);
                    let items: Vec<Value> = children(wire)
                        .into_iter()
                        .filter_map(|c| xml_value(model, element, c))
                        .collect();
                    (!items.is_empty()).then_some(Value::Array(items))
                } else {
                    children(wire)
                        .first()
                        .and_then(|c| xml_value(model, member_shape, *c))
                };
                if let Some(value) = value {
                    out.insert(name.clone(), value);
                }
            }
            Some(Value::Object(out))
        }
        "list" => {
            let element = shape_of(&shape["member"]);
            Some(Value::Array(
                node.children()
                    .filter(roxmltree::Node::is_element)
                    .filter_map(|c| xml_value(model, element, c))
                    .collect(),
            ))
        }
        "map" => {
            let (key, value) = (&shape["key"], &shape["value"]);
            let mut out = Map::new();
            for entry in node.children().filter(roxmltree::Node::is_element) {
                let field = |name: &str| {
                    entry
                        .children()
                        .find(|c| c.is_element() && c.tag_name().name() == name)
                };
                if let Some(k) = field(wire_name(key, "key")).and_then(|k| k.text()) {
                    let v = field(wire_name(value, "value"))
                        .and_then(|v| xml_value(model, shape_of(value), v))
                        .unwrap_or(Value::Null);
                    out.insert(k.to_string(), v);
                }
            }
            Some(Value::Object(out))
        }
        _ => Some(typed(model, shape_name, node.text().unwrap_or_default())),
    }
}
