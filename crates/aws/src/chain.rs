//! An error and its sources on one line.

/// `err: cause: cause…`, each text said once: the SDK's and the credential chain's own messages
/// often repeat their source (the chain already lists every provider it tried).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct Layer {
        text: &'static str,
        #[source]
        source: Option<Box<Layer>>,
    }

    fn layers(texts: &[&'static str]) -> Layer {
        texts
            .iter()
            .rev()
            .fold(None, |source, text| {
                Some(Layer {
                    text,
                    source: source.map(Box::new),
                })
            })
            .expect("at least one layer")
    }

    #[test]
    fn every_source_is_said_once_in_order() {
        let e = layers(&["dispatch failure", "io error", "connection refused"]);
        assert_eq!(
            error_chain(&e),
            "dispatch failure: io error: connection refused"
        );
        // A source the outer message already contains is not repeated.
        let e = layers(&["no provider: tried env, profile", "tried env, profile"]);
        assert_eq!(error_chain(&e), "no provider: tried env, profile");
    }
}
