//! Probes the tools the deployment checks (`deploy_files.rs`) run when present: libtest cannot
//! mark a test ignored at run time, so the probe runs here and sets a `cfg` that turns a
//! check whose tool is missing into `#[ignore = "…"]` — reported as ignored, never as passed.
//!
//! - `has_compose`: `docker compose` (plugin) or a v2 `docker-compose` answers `version`.
//! - `has_kubectl`: `kubectl` answers `version --client`.
//!
//! `promtool` and `amtool` are not probed: those checks are required (`.ci/run` installs
//! the tools) and fail when the tool is missing. The probe runs again when `PATH` changes or
//! a probed tool changes; after installing a tool on an unchanged `PATH`, run
//! `touch tests/build.rs`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Runs `program args` quietly; its standard output when it succeeds.
fn answers(program: &PathBuf, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rustc-check-cfg=cfg(has_compose)");
    println!("cargo::rustc-check-cfg=cfg(has_kubectl)");

    let docker = find_program("docker");
    let standalone = find_program("docker-compose");
    for found in [&docker, &standalone].into_iter().flatten() {
        println!("cargo::rerun-if-changed={}", found.display());
    }
    let plugin = docker
        .as_ref()
        .is_some_and(|docker| answers(docker, &["compose", "version"]).is_some());
    // Compose v1 predates the Compose Specification these files use (`name:`, no `version:`).
    let v2 = standalone.as_ref().is_some_and(|compose| {
        answers(compose, &["version"]).is_some_and(|out| !out.contains("version 1."))
    });
    if plugin || v2 {
        println!("cargo::rustc-cfg=has_compose");
    }

    if let Some(kubectl) = find_program("kubectl") {
        println!("cargo::rerun-if-changed={}", kubectl.display());
        if answers(&kubectl, &["version", "--client"]).is_some() {
            println!("cargo::rustc-cfg=has_kubectl");
        }
    }
}
