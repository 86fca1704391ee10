// SPDX-License-Identifier: GPL-2.0
//! `sysfence man`: manual pages generated from the command's own help.
//!
//! The top page lists its subcommands as `sysfence-policy(1)` and so on;
//! with `--dir` every one of those pages is written too, down to the
//! leaves (`sysfence-policy-apply.1`), so that each name a page gives can
//! be opened with `man`.

use crate::exit::Code;
use crate::out;
use clap::Args;
use std::path::{Path, PathBuf};

/// Options of `sysfence man`.
#[derive(Args)]
pub struct ManArgs {
    /// Write the pages of sysfence and of every subcommand (sysfence.1,
    /// sysfence-policy.1, sysfence-policy-apply.1, ...) into DIR, created
    /// if missing, instead of the top page to standard output.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// The page of `cmd` (built, so that its subcommands have their full
/// names), as roff.
fn render(cmd: &clap::Command) -> Result<Vec<u8>, std::io::Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .source(format!("sysfence {}", sysfence_abi::proto::RELEASE))
        .render(&mut page)?;
    Ok(page)
}

/// Every page: `cmd`'s and, depth first, its visible subcommands' (not
/// `help`), as (file name, roff).
pub fn pages(cmd: clap::Command) -> Result<Vec<(String, Vec<u8>)>, std::io::Error> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        let name = cmd.get_display_name().unwrap_or(cmd.get_name());
        out.push((format!("{name}.1"), render(cmd)?));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(&prepared(cmd), &mut out)?;
    Ok(out)
}

/// `cmd` as the pages show it: built (so that subcommands have their full
/// names), without clap's `help` subcommand, which has no page.
fn prepared(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Writes every page into `dir`; errors name the file.
fn write_all(cmd: clap::Command, dir: &Path) -> Result<usize, crate::cli::Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| crate::cli::Error::file(format_args!("--dir {}", dir.display()), e))?;
    let pages = pages(cmd)?;
    for (name, page) in &pages {
        let path = dir.join(name);
        std::fs::write(&path, page).map_err(|e| crate::cli::Error::file(path.display(), e))?;
    }
    Ok(pages.len())
}

pub fn run(args: &ManArgs, cmd: clap::Command) -> Result<Code, crate::cli::Error> {
    match &args.dir {
        None => {
            // Rendered into memory: clap_mangen's writes are checked, but
            // standard output's failures are handled in one place (out.rs).
            out::write_bytes(&render(&prepared(cmd))?)?;
        }
        Some(dir) => {
            let n = write_all(cmd, dir)?;
            eprintln!("sysfence: {n} manual pages written to {}", dir.display());
        }
    }
    Ok(Code::Ok)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every `sysfence-…(1)` a page names is a page of the set.
    #[test]
    fn every_page_a_page_names_is_written() {
        let pages = super::pages(crate::Cli::command()).unwrap();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for want in [
            "sysfence.1",
            "sysfence-policy.1",
            "sysfence-policy-apply.1",
            "sysfence-agent-plan.1",
        ] {
            if want.contains("agent") && !cfg!(feature = "agent") {
                continue;
            }
            assert!(names.contains(&want), "{want} not in {names:?}");
        }
        assert!(
            !names
                .iter()
                .any(|n| n.contains("help") || n.contains("bench")),
            "{names:?}"
        );
        let mut named = 0;
        for (file, page) in &pages {
            let text = String::from_utf8(page.clone()).unwrap().replace("\\-", "-");
            for (i, _) in text.match_indices("(1)") {
                let start = text[..i]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                    .map_or(0, |s| s + 1);
                let name = &text[start..i];
                if name.starts_with("sysfence") {
                    named += 1;
                    assert!(
                        names.contains(&format!("{name}.1").as_str()),
                        "{file} names {name}(1), which is not written"
                    );
                }
            }
        }
        assert!(named > 20, "only {named} references found");
    }
}
