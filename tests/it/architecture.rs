//! The module graph, read from the `crate::` paths in src/: the top-level modules must not
//! depend on each other in a cycle, and docs/architecture.md lists the graph as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::common::repo_root;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Top-level module -> the other top-level modules its files name through `crate::`.
fn module_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    let mut files = Vec::new();
    collect_rs(src, &mut files);
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if first == "lib" || first == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let deps = graph.entry(first.clone()).or_default();
        for used in crate_paths(&text) {
            if used != first {
                deps.insert(used);
            }
        }
    }
    graph
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The first segment of every `crate::a::...` and `crate::{a, b::c}` path outside comments.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                // Items of a group, split at top-level commas: `{a, b::{c, d}}` names a and b.
                let (mut depth, mut start) = (0, 0);
                for (i, ch) in group.char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            found.extend(ident(&group[start..i]));
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            found.extend(ident(&group[start..i]));
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
            } else {
                found.extend(ident(after));
            }
            rest = after;
        }
    }
    found.remove("self");
    found
}

fn ident(s: &str) -> Option<String> {
    let s = s.trim_start();
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    (end > 0).then(|| s[..end].to_string())
}

/// A cycle through `graph`, if there is one, as the modules along it.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(m: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for dep in graph.get(m).into_iter().flatten().filter(|d| graph.contains_key(*d)) {
            if let Some(c) = visit(dep, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

fn graph_markdown(graph: &Graph) -> String {
    let mut s = String::from("| module | uses |\n|---|---|\n");
    for (m, deps) in graph {
        let uses: Vec<String> = deps.iter().filter(|d| graph.contains_key(*d)).map(|d| format!("`{d}`")).collect();
        s.push_str(&format!("| `{m}` | {} |\n", if uses.is_empty() { "—".to_string() } else { uses.join(", ") }));
    }
    s
}

#[test]
fn the_top_level_modules_depend_on_each_other_without_a_cycle() {
    let graph = module_graph(&repo_root().join("src"));
    assert!(graph.len() > 10, "{graph:?}");
    assert_eq!(find_cycle(&graph), None, "a module cycle; break it (docs/architecture.md says which way each layer points)");
}

#[test]
fn the_cycle_check_finds_a_cycle_and_reads_groups() {
    let text = "use crate::{batch::Batch, rules::{self, Sandbox}};\nlet x = crate::vocab::Severity::Error; // crate::commented\n";
    assert_eq!(crate_paths(text), ["batch", "rules", "vocab"].iter().map(|s| s.to_string()).collect());
    let mut g = Graph::new();
    g.insert("a".into(), ["b".to_string()].into());
    g.insert("b".into(), ["c".to_string()].into());
    g.insert("c".into(), ["a".to_string()].into());
    assert_eq!(find_cycle(&g), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    g.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&g), None);
}

#[test]
fn docs_architecture_md_lists_the_module_graph() {
    let graph = module_graph(&repo_root().join("src"));
    crate::refdata::check_generated("docs/architecture.md", "module-graph", &graph_markdown(&graph));
}
