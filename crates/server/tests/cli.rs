//! The command line as a person meets it: help text and the effective
//! configuration printed by `berth config`.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn run(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("berth runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn serve_help_explains_every_flag() {
    let (ok, help) = run(&["serve", "--help"], &[]);
    assert!(ok, "{help}");
    for needle in ["--listen", "--data-dir", "--config", "BERTH_LISTEN", "BERTH_DATA_DIR", "127.0.0.1:5000", "./data"] {
        assert!(help.contains(needle), "help does not mention {needle}:\n{help}");
    }
    let (ok, top) = run(&["--help"], &[]);
    assert!(ok && top.contains("serve") && top.contains("config"), "{top}");
}

#[test]
fn config_applies_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("berth.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:7001\"\ndata_dir = \"/from/file\"\n[storage]\nfsync = false\n")
        .unwrap();
    let file = file.to_str().unwrap();

    let (ok, out) = run(&["config", "--config", file], &[("BERTH_LISTEN", "127.0.0.1:7002")]);
    assert!(ok, "{out}");
    assert!(out.contains("listen = \"127.0.0.1:7002\""), "environment should beat the file:\n{out}");
    assert!(out.contains("data_dir = \"/from/file\""), "{out}");
    assert!(out.contains("fsync = false"), "{out}");

    let env = [("BERTH_LISTEN", "127.0.0.1:7002")];
    let (ok, out) = run(&["config", "--config", file, "--listen", "127.0.0.1:7003"], &env);
    assert!(ok && out.contains("listen = \"127.0.0.1:7003\""), "the flag should beat the environment:\n{out}");
}

#[test]
fn bad_configuration_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("berth.toml");
    std::fs::write(&file, "lisen = \"127.0.0.1:7001\"\n").unwrap();
    let (ok, out) = run(&["serve", "--config", file.to_str().unwrap()], &[]);
    assert!(!ok, "a misspelled key was accepted");
    assert!(out.contains("lisen"), "the error should name the bad key:\n{out}");

    let (ok, out) = run(&["serve", "--config", "/nonexistent/berth.toml"], &[]);
    assert!(!ok && out.contains("does not exist"), "{out}");
}
