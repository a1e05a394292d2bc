//! Helpers shared by the integration-test modules.
use std::path::{Path, PathBuf};

/// `../shared` beside the checkout. Tests that need it are `#[ignore = "needs ../shared ..."]`, so a
/// plain `cargo test` lists them as ignored; `cargo test -- --ignored` runs them and fails loudly
/// here when the folder is missing instead of passing silently.
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("CLAIMLINT_SHARED").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    assert!(dir.join("data").is_dir(), "this test needs the shared reference data at {} (set CLAIMLINT_SHARED to point elsewhere)", dir.display());
    dir
}

/// A file under `../shared/data`.
pub fn shared_data(rel: &str) -> PathBuf {
    shared_dir().join("data").join(rel)
}

/// The project root (for samples/, rules/).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
