//! `vitrine-source`: the bundle source format (`bundle.toml`), read with errors that
//! point into the file, and its schema section resolved into the engine's
//! [`Schema`].
//!
//! This crate links neither `cel` nor `tract-onnx`: the feature store reads a bundle's
//! schema through it without compiling the bundle (`vitrine-compile` does that).
mod error;
pub mod format;
pub mod reference;

use std::path::{Path, PathBuf};

pub use error::SourceError;
use vitrine_base::duration;
use vitrine_engine::schema::{ContextField, ContextKind, FeatureDef, FeatureKind, Quant, Schema};

/// Where a source is read from, for errors that name the file and the item.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The bundle source folder.
    pub dir: &'a Path,
    /// Its `bundle.toml`.
    pub toml_path: PathBuf,
}

impl Ctx<'_> {
    /// `what` is invalid: `message`.
    pub fn invalid(&self, what: impl Into<String>, message: impl Into<String>) -> SourceError {
        SourceError::Invalid { path: self.toml_path.clone(), what: what.into(), message: message.into() }
    }

    /// `what` names an unknown `kind` `name`; the closest of `known` is suggested.
    pub fn unknown<'k>(
        &self,
        what: impl Into<String>,
        kind: &'static str,
        name: &str,
        known: impl Iterator<Item = &'k str>,
    ) -> SourceError {
        SourceError::Unknown {
            path: self.toml_path.clone(),
            what: what.into(),
            kind,
            name: name.to_string(),
            suggestion: vitrine_base::suggest::closest(name, known),
        }
    }

    /// Seconds in the duration `s` of `what`.
    pub fn duration(&self, what: &str, s: &str) -> Result<u64, SourceError> {
        duration::parse(s).ok_or_else(|| self.invalid(what, duration::expected(s)))
    }
}

/// The folder holding `path` if it names a `bundle.toml`, else `path` itself.
pub fn folder(path: &Path) -> &Path {
    if path.is_file() {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    }
}

/// Reads and parses `dir/bundle.toml`.
pub fn read(dir: &Path) -> Result<(format::File, Ctx<'_>), SourceError> {
    let toml_path = dir.join("bundle.toml");
    let text = std::fs::read_to_string(&toml_path).map_err(|source| SourceError::Io { path: toml_path.clone(), source })?;
    let file: format::File = ::toml::from_str(&text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start).min(text.len());
        let line = text[..at].matches('\n').count() + 1;
        let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        SourceError::Toml { path: toml_path.clone(), line, column, message: e.message().to_string() }
    })?;
    Ok((file, Ctx { dir, toml_path }))
}

/// The schema of the bundle source at `path` (its `bundle.toml` or the folder holding
/// it), without compiling rules or models.
pub fn read_schema(path: &Path) -> Result<Schema, SourceError> {
    let (file, cx) = read(folder(path))?;
    schema(&cx, &file.schema)
}

/// Words a feature or context field may not be named: CEL's reserved words and the
/// names rules already use (`client.x`, `ctx.page`, `now`).
pub const RESERVED_NAMES: &[&str] = &[
    "true",
    "false",
    "null",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "namespace",
    "return",
    "var",
    "void",
    "while",
    "has",
    "client",
    "ctx",
    "now",
];

/// The one rule for feature and context field names, so that CEL can name them: an ASCII
/// letter or `_`, then letters, digits or `_`, at most 64 characters, not a
/// [`RESERVED_NAMES`] word. The error suggests a name that follows it.
pub fn check_name(cx: &Ctx<'_>, what: &str, name: &str) -> Result<(), SourceError> {
    let mut chars = name.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64;
    if well_formed && !RESERVED_NAMES.contains(&name) {
        return Ok(());
    }
    let mut fixed: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(64).collect();
    if fixed.is_empty() || fixed.starts_with(|c: char| c.is_ascii_digit()) || RESERVED_NAMES.contains(&fixed.as_str()) {
        fixed.insert(0, '_');
    }
    let why = if well_formed {
        "is a reserved word in rules"
    } else {
        "is not a name rules can use (a letter or `_`, then letters, digits or `_`, at most 64)"
    };
    Err(cx.invalid(format!("{what} `{name}`"), format!("{why}; e.g. `{}`", &fixed[..fixed.len().min(64)])))
}

pub fn schema(cx: &Ctx<'_>, s: &format::Schema) -> Result<Schema, SourceError> {
    for f in &s.features {
        check_name(cx, "feature", &f.name)?;
    }
    for c in &s.context {
        check_name(cx, "context field", &c.name)?;
    }
    let features = s
        .features
        .iter()
        .map(|f| {
            let what = format!("feature `{}`", f.name);
            let kind = match (f.kind, f.encoding.as_deref()) {
                (format::FeatureType::Numeric, None | Some("f32")) => FeatureKind::Numeric { quant: Quant::F32 },
                (format::FeatureType::Numeric, Some("u8")) => {
                    FeatureKind::Numeric { quant: Quant::U8 { scale: f.scale, offset: f.offset } }
                }
                (format::FeatureType::Numeric, Some("u16")) => {
                    FeatureKind::Numeric { quant: Quant::U16 { scale: f.scale, offset: f.offset } }
                }
                (format::FeatureType::Numeric, Some(other)) => {
                    return Err(cx.invalid(what, format!("encoding `{other}` is not one of f32, u8, u16")))
                }
                (format::FeatureType::Boolean, None) => FeatureKind::Boolean,
                (format::FeatureType::Categorical, None) => FeatureKind::Categorical { vocab: f.vocab.clone() },
                (_, Some(_)) => return Err(cx.invalid(what, "only numeric features take an encoding")),
            };
            if f.kind != format::FeatureType::Categorical && !f.vocab.is_empty() {
                return Err(cx.invalid(what, "only categorical features take a vocab"));
            }
            Ok(FeatureDef { name: f.name.clone(), kind, personal: f.personal })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let context = s
        .context
        .iter()
        .map(|c| ContextField {
            name: c.name.clone(),
            kind: match c.kind {
                format::FeatureType::Numeric => ContextKind::Number,
                format::FeatureType::Boolean => ContextKind::Boolean,
                format::FeatureType::Categorical => ContextKind::Category { vocab: c.vocab.clone() },
            },
        })
        .collect();
    let schema = Schema { features, context, channels: s.channels.clone() };
    schema.validate().map_err(|e| SourceError::Engine(e.into()))?;
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
trusted_snapshot_keys = ["keys/missing.pub"]
[bundle]
name = "t"
version = 1
[schema]
channels = ["web"]
features = [
  { name = "tenure", type = "numeric", encoding = "u8", scale = 0.5 },
  { name = "plan", type = "categorical", vocab = ["basic", "plus"], personal = false },
]
[[slots]]
id = "hero"
channel = "web"
k = 1
[[offers]]
id = "o"
category = "c"
slots = ["hero"]
value = 1.0
propensity = { model = "m", output = "probabilities" }
eligibility = "@rules/missing.cel"
treatments = [{ id = "default", title = "O" }]
[[models]]
name = "m"
file = "models/missing.onnx"
inputs = ["tenure"]
"#;

    #[test]
    fn the_schema_is_read_without_compiling_rules_models_or_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bundle.toml"), TOML).unwrap();
        // The rule file, the model and the trusted key are all missing: only a compiler
        // would notice.
        for path in [dir.path().to_path_buf(), dir.path().join("bundle.toml")] {
            let schema = read_schema(&path).unwrap();
            assert_eq!(schema.features.len(), 2);
            assert_eq!(schema.features[0].kind, FeatureKind::Numeric { quant: Quant::U8 { scale: 0.5, offset: 0.0 } });
            assert!(!schema.features[1].personal);
            assert_eq!(schema.channels, ["web"]);
        }
    }

    #[test]
    fn schema_errors_are_positioned_and_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bundle.toml"), TOML.replace("encoding = \"u8\"", "encoding = \"u9\"")).unwrap();
        let e = read_schema(dir.path()).unwrap_err();
        assert_eq!(e.code(), "source_invalid", "{e}");
        assert!(e.to_string().contains("feature `tenure`") && e.to_string().contains("u9"), "{e}");
        std::fs::write(dir.path().join("bundle.toml"), "[bundle\nname = 1").unwrap();
        let e = read_schema(dir.path()).unwrap_err();
        assert!(matches!(e, SourceError::Toml { line: 1, .. }), "{e}");
        assert_eq!(read_schema(&dir.path().join("nowhere")).unwrap_err().code(), "source_io");
    }

    #[test]
    fn feature_and_context_names_follow_one_rule_with_a_suggestion() {
        let dir = tempfile::tempdir().unwrap();
        for (bad, suggestion) in
            [("data-usage", "data_usage"), ("3g_share", "_3g_share"), ("client", "_client"), ("Plan.Name", "plan_name")]
        {
            std::fs::write(dir.path().join("bundle.toml"), TOML.replace("name = \"tenure\"", &format!("name = \"{bad}\""))).unwrap();
            let e = read_schema(dir.path()).unwrap_err();
            assert_eq!(e.code(), "source_invalid", "{e}");
            let text = e.to_string();
            assert!(text.contains(&format!("feature `{bad}`")) && text.contains(&format!("e.g. `{suggestion}`")), "{text}");
        }
        std::fs::write(dir.path().join("bundle.toml"), TOML.replace("name = \"tenure\"", "name = \"_tenure_2\"")).unwrap();
        assert!(read_schema(dir.path()).is_ok(), "letters, digits and `_` are fine");
    }
}
