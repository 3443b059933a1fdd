//! The keys' help (`?`): a modal dialog listing every key and the filter's
//! syntax.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::query;

/// The keys, listed, in the platform's modal dialog (`showModal`): focus
/// moves into it, the page behind is inert to pointer, keyboard and
/// assistive technology, and closing it (`?`, Escape, the button) puts
/// focus back where it was, as the dialog element does.
pub(super) fn help_dialog(
    help_open: RwSignal<bool>,
    scroller: NodeRef<html::Div>,
) -> impl IntoView {
    const KEYS: [(&str, &str); 14] = [
        ("↑ / ↓", "previous / next span"),
        ("n / N", "next / previous filter match"),
        ("Page Up / Page Down", "a screen up / down"),
        ("Home / End", "first / last span"),
        ("←", "collapse, or go to the parent"),
        ("→", "expand, or go to the first child"),
        ("Enter", "open the span's details"),
        ("z / 0", "zoom to the span / to the whole trace"),
        ("r", "show only the span's subtree; again: the whole trace"),
        ("Drag", "on the axis or the minimap: zoom to that range"),
        ("Esc", "close details or this help"),
        ("/", "focus the filter"),
        ("?", "show or hide this help"),
        ("Filter words", query::SYNTAX),
    ];
    // Found through the list's element rather than a node ref of its own:
    // each distinct node ref type costs the bundle more than this lookup.
    Effect::new(move |_| {
        let open = help_open.get();
        let dialog = scroller
            .get()
            .and_then(|element| element.closest(".wf").ok().flatten())
            .and_then(|root| root.query_selector("dialog").ok().flatten())
            .map(|element| element.unchecked_into::<web_sys::HtmlDialogElement>());
        if let Some(dialog) = dialog {
            if open && !dialog.open() {
                // Fails only when the dialog is not in the document.
                let _ = dialog.show_modal();
            } else if !open && dialog.open() {
                dialog.close();
            }
        }
    });
    view! {
        // Always in the page, so that closing it returns focus natively;
        // the test hook marks it only while open.
        <dialog
            class="wf-help"
            data-testid=move || help_open.get().then_some("wf-help")
            aria-label="Keyboard shortcuts"
            // Escape closes a modal dialog by itself: keep the signal in step.
            on:close=move |_| help_open.set(false)
        >
            <h2>"Keyboard"</h2>
            <dl>
                {KEYS
                    .iter()
                    .map(|(key, what)| view! { <dt><kbd>{*key}</kbd></dt><dd>{*what}</dd> })
                    .collect_view()}
            </dl>
            <button type="button" on:click=move |_| help_open.set(false)>"Close"</button>
        </dialog>
    }
}
