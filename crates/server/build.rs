//! Probes `nginx` for the two-instances tests (`tests/behind_nginx.rs`): libtest cannot mark
//! a test ignored at run time, so without nginx on PATH they are compiled with
//! `#[ignore = "nginx is not installed"]` — reported as ignored, never as passed. `.ci/run`
//! installs nginx, so CI always runs them. After installing nginx on an unchanged PATH, run
//! `touch crates/server/build.rs`.

use std::path::PathBuf;

fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    // Debian installs nginx under /usr/sbin, which is not on every user's PATH.
    dirs.push(PathBuf::from("/usr/sbin"));
    dirs.into_iter()
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rustc-check-cfg=cfg(has_nginx)");
    if let Some(nginx) = find_program("nginx") {
        println!("cargo::rerun-if-changed={}", nginx.display());
        println!("cargo::rustc-cfg=has_nginx");
        println!("cargo::rustc-env=AINATIVE_TEST_NGINX={}", nginx.display());
    }
}
