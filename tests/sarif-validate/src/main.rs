//! `bodyline-sarif-validate SCHEMA FILE...`: validate each JSON file against a draft-04 JSON
//! schema (the SARIF 2.1.0 schema, with format assertions such as `uri-reference`), print
//! every violation with its JSON pointer, and exit 1 if any file is invalid, 2 on bad input.

use std::process::ExitCode;

fn read_json(path: &str) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: not JSON: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((schema_path, files)) = args.split_first() else {
        eprintln!("usage: bodyline-sarif-validate SCHEMA FILE...");
        return ExitCode::from(2);
    };
    let validator = match read_json(schema_path).and_then(|schema| {
        jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| format!("{schema_path}: not a draft-04 schema: {e}"))
    }) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut invalid = false;
    for file in files {
        let instance = match read_json(file) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        };
        for error in validator.iter_errors(&instance) {
            invalid = true;
            println!("{file}: {}: {error}", error.instance_path());
        }
    }
    if invalid {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
