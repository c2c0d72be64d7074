//! The MIME summary of a stored message (its public entry point): no message panics
//! it.

use mailhive_store::MessageSummary;

#[test]
fn mime() {
    bolero::check!(name = "mime")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let summary = MessageSummary::parse(input);
            let _ = summary.header("Subject");
        });
}
