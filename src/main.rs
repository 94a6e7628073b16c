//! The designer preview: asks a sandbox server for a demo session and mounts
//! a live checkout for it.

use payment_selector::preview::Preview;

fn main() {
    // Release builds abort on panic without a message (the size profile),
    // so the hook only earns its bytes in development.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(Preview);
}
