// SPDX-License-Identifier: GPL-2.0
//! The agent's log: `tracing` events from the agent's own code (info and
//! above; not kube's), one line each on stderr, `sysfence agent: MESSAGE`,
//! as before it used tracing (the guest tests read these lines).

use std::fmt;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// `sysfence agent: ` and the event's message (other fields as
/// `key=value`), with no time, level or target.
struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "sysfence agent: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// The subscriber: this crate's events at info and above, as [`Line`]s,
/// to `writer`.
fn subscriber<W>(writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .event_format(Line)
        .with_writer(writer)
        .with_filter(Targets::new().with_target(env!("CARGO_CRATE_NAME"), Level::INFO));
    tracing_subscriber::registry().with(layer)
}

/// Sends the agent's events to stderr (once; later calls do nothing).
pub fn init() {
    let _ = subscriber(std::io::stderr).try_init();
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_as_the_guest_tests_read_them() {
        let buf = Buf::default();
        let out = buf.clone();
        tracing::subscriber::with_default(super::subscriber(move || out.clone()), || {
            let what = "shop/web";
            tracing::info!("apply {what} to shop/web-2");
            tracing::debug!("not at info");
            tracing::info!(target: "kube_runtime::watcher", "not ours");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "sysfence agent: apply shop/web to shop/web-2\n");
    }
}
