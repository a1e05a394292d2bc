//! Documentation generated from the code, so tables never drift: each generated block in a
//! markdown file sits between `<!-- generated: NAME -->` and `<!-- end: NAME -->`, and a test
//! fails when the file's block differs from what the code produces.

/// The generated blocks of docs/rules.md, by name.
pub fn rules_md_blocks() -> Vec<(&'static str, String)> {
    vec![("scope-variables", crate::rules::vars::markdown()), ("selectors", crate::rules::select::markdown())]
}

/// Replaces every named block of `text` with the generated content; Err names a missing block.
pub fn fill(text: &str, blocks: &[(&str, String)]) -> Result<String, String> {
    let mut out = text.to_string();
    for (name, content) in blocks {
        let open = format!("<!-- generated: {name} -->");
        let close = format!("<!-- end: {name} -->");
        let (Some(a), Some(b)) = (out.find(&open), out.find(&close)) else {
            return Err(format!("block `{name}` is missing ({open} ... {close})"));
        };
        let start = a + open.len();
        out = format!("{}\n{}\n{}", &out[..start], content.trim_end(), &out[b..]);
    }
    Ok(out)
}
