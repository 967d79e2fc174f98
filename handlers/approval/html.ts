/**
 * The approval page's HTML: one small template, every dynamic value escaped, no inline script, one
 * inline style allowed by its hash in the Content-Security-Policy.
 */
import { createHash } from "node:crypto";

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The style: system fonts, dark text on white (contrast above 12:1; the buttons' white on green and red
 * above 5:1), a column at most 40rem wide that wraps long words, so nothing scrolls sideways on a phone.
 */
export const STYLE = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}
h1,p,dd,.details{overflow-wrap:anywhere}
.details{white-space:pre-wrap;background:#f3f4f6;border:1px solid #d1d5db;border-radius:.25rem;padding:.75rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}
dt{font-weight:600}
dd{margin:0}
label{display:block;font-weight:600;margin:0 0 .25rem}
textarea{display:block;width:100%;font:inherit;padding:.5rem;border:1px solid #6b7280;border-radius:.25rem;margin:0 0 1rem}
.actions{display:flex;flex-wrap:wrap;gap:.75rem}
button{font:inherit;font-weight:600;padding:.6rem 1.4rem;border:0;border-radius:.25rem;color:#fff;cursor:pointer}
button:focus-visible,textarea:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.approve{background:#166534}
.reject{background:#991b1b}
.notice{border-left:.3rem solid #1d4ed8;padding:.25rem 0 .25rem .75rem}
.hint{color:#374151;font-size:.9rem}
`;

/** The CSP source of {@link STYLE}. */
export const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE, "utf8").digest("base64")}'`;

/** The script served at `assets/local-time.js`: adds the reader's local time to each `<time>`. */
export const LOCAL_TIME_SCRIPT = `"use strict";
for (const el of document.querySelectorAll("time[datetime]")) {
  const when = new Date(el.getAttribute("datetime"));
  if (!Number.isNaN(when.getTime())) {
    el.insertAdjacentText("afterend", " (" + when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) + " your time)");
  }
}
`;

/** The path of the script, relative to the page (the page is `<base>/<approvalId>`). */
export const LOCAL_TIME_SCRIPT_PATH = "assets/local-time.js";

/** The page's headers: strict CSP, no sniffing, no referrer (the link is a credential), no caching. */
export function securityHeaders(): Record<string, string> {
    return {
        "content-security-policy": [
            "default-src 'none'",
            `style-src ${STYLE_HASH}`,
            "script-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ].join("; "),
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
        "x-frame-options": "DENY",
    };
}

/** `2026-12-01T15:00:00.000Z` as `1 December 2026, 15:00 UTC`, in a `<time datetime>`. */
export function timeElement(iso: string): string {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) {
        return escapeHtml(iso);
    }
    const text = new Intl.DateTimeFormat("en-GB", {
        dateStyle: "long",
        timeStyle: "short",
        timeZone: "UTC",
    }).format(date);
    return `<time datetime="${escapeHtml(date.toISOString())}">${escapeHtml(text)} UTC</time>`;
}

/** A whole page. `content` is HTML already escaped by the caller. */
export function page(title: string, content: string, options: { readonly script?: boolean } = {}): string {
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
${options.script === true ? `<script src="${LOCAL_TIME_SCRIPT_PATH}" defer></script>\n` : ""}</head>
<body>
<main>
${content}
</main>
</body>
</html>
`;
}

/** A page that only says something: an error, or the outcome of a decision. */
export function messagePage(heading: string, paragraphs: readonly string[]): string {
    return page(
        heading,
        `<h1>${escapeHtml(heading)}</h1>\n${paragraphs.map((p) => `<p class="notice">${p}</p>`).join("\n")}`,
        { script: paragraphs.some((p) => p.includes("<time")) },
    );
}
