//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds the files at
//! compile time, and stable Rust cannot tell Cargo which files a proc macro read.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/postgres");
}
