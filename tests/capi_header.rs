//! `include/qkit.h` and `src/capi.rs` declare the same C ABI: the same
//! functions with the same parameter names and types in the same order, and
//! the same constants with the same values. Reads both files as text, so it
//! runs without the `capi` feature and without a C compiler.

use std::collections::BTreeMap;

const RUST: &str = include_str!("../src/capi.rs");
const HEADER: &str = include_str!("../include/qkit.h");

/// The C spelling of a Rust parameter type used in the ABI.
fn c_type(rust: &str) -> String {
    let rust = rust.trim();
    let (prefix, base) = if let Some(b) = rust.strip_prefix("*const ") {
        ("const ", format!("{} *", scalar(b)))
    } else if let Some(b) = rust.strip_prefix("*mut ") {
        ("", format!("{} *", scalar(b)))
    } else {
        ("", scalar(rust).to_string())
    };
    format!("{prefix}{base}")
}

fn scalar(t: &str) -> &str {
    match t.trim() {
        "i8" => "int8_t",
        "i32" => "int32_t",
        "f32" => "float",
        "f64" => "double",
        "usize" => "size_t",
        other => other,
    }
}

/// Squeezes whitespace so `int8_t *` and `int8_t*` compare equal.
fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" *", "*")
        .replace("* ", "*")
}

type Sig = (String, Vec<(String, String)>);

fn rust_functions() -> BTreeMap<String, Sig> {
    let mut out = BTreeMap::new();
    let mut rest = RUST;
    while let Some(i) = rest.find("pub unsafe extern \"C\" fn ") {
        rest = &rest[i + "pub unsafe extern \"C\" fn ".len()..];
        let name = rest[..rest.find('(').unwrap()].to_string();
        let close = rest.find(") -> ").unwrap();
        let params = rest[name.len() + 1..close]
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, t) = p.split_once(':').unwrap();
                (n.trim().to_string(), norm(&c_type(t)))
            })
            .collect();
        let ret = rest[close + 5..rest.find('{').unwrap()].trim();
        out.insert(name, (norm(&c_type(ret)), params));
    }
    out
}

fn header_functions() -> BTreeMap<String, Sig> {
    let mut out = BTreeMap::new();
    // Declarations: "ret name(params);" possibly over several lines.
    let flat: String = HEADER
        .lines()
        .filter(|l| {
            !l.trim_start().starts_with('#')
                && !l.trim_start().starts_with("/*")
                && !l.trim_start().starts_with('*')
        })
        .collect::<Vec<_>>()
        .join(" ");
    for decl in flat.split(';') {
        let decl = decl.trim();
        let Some(open) = decl
            .find("qkit_status qkit_")
            .map(|i| i + "qkit_status ".len())
        else {
            continue;
        };
        let name_end = decl[open..].find('(').unwrap() + open;
        let name = decl[open..name_end].to_string();
        let params = decl[name_end + 1..decl.rfind(')').unwrap()]
            .split(',')
            .map(|p| {
                let p = p.trim();
                let split = p.rfind([' ', '*']).unwrap() + 1;
                (p[split..].to_string(), norm(&p[..split]))
            })
            .collect();
        out.insert(name, ("qkit_status".to_string(), params));
    }
    out
}

fn constants(src: &str, rust: bool) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for line in src.lines() {
        let line = line.trim();
        let parsed = if rust {
            line.strip_prefix("pub const QKIT_").and_then(|r| {
                let (name, rest) = r.split_once(':')?;
                let value = rest.split('=').nth(1)?.trim().trim_end_matches(';');
                Some((name.trim().to_string(), value.to_string()))
            })
        } else {
            line.strip_prefix("#define QKIT_").and_then(|r| {
                let mut it = r.split_whitespace();
                let name = it.next()?.to_string();
                if name == "H" {
                    return None;
                }
                Some((
                    name,
                    it.next()?
                        .trim_matches(|c| c == '(' || c == ')')
                        .to_string(),
                ))
            })
        };
        if let Some((name, value)) = parsed {
            out.insert(name, value.parse().expect("integer constant"));
        }
    }
    out
}

#[test]
fn header_declares_every_rust_function_with_the_same_signature() {
    let rust = rust_functions();
    let header = header_functions();
    assert!(rust.len() >= 5, "found {} Rust functions", rust.len());
    assert_eq!(
        rust.keys().collect::<Vec<_>>(),
        header.keys().collect::<Vec<_>>(),
        "function sets differ"
    );
    for (name, sig) in &rust {
        assert_eq!(sig, &header[name], "signature of {name}");
    }
}

#[test]
fn header_defines_every_rust_constant_with_the_same_value() {
    let rust = constants(RUST, true);
    let header = constants(HEADER, false);
    assert!(rust.len() >= 10);
    assert_eq!(rust, header);
}

#[test]
fn the_checker_notices_a_difference() {
    // A changed parameter type must not compare equal.
    assert_ne!(norm(&c_type("*const i8")), norm("const int32_t *"));
    assert_eq!(norm(&c_type("*const i8")), norm("const int8_t *"));
}

/// The header's ERROR CODES table names every status code with its value
/// (the table is the C user's documentation of the codes).
#[test]
fn header_documents_every_error_code() {
    let table = HEADER
        .split("ERROR CODES")
        .nth(1)
        .expect("an ERROR CODES table")
        .split("*/")
        .next()
        .unwrap();
    let rows: BTreeMap<String, i64> = table
        .lines()
        .filter_map(|l| {
            let mut it = l.trim_start_matches([' ', '*']).split_whitespace();
            let name = it.next()?.strip_prefix("QKIT_")?.to_string();
            Some((name, it.next()?.parse().ok()?))
        })
        .collect();
    let codes: BTreeMap<String, i64> = constants(RUST, true)
        .into_iter()
        .filter(|(name, _)| name == "OK" || name.starts_with("ERR_"))
        .collect();
    assert!(codes.len() >= 8, "{codes:?}");
    assert_eq!(rows, codes);
}
