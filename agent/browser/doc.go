// Package browser gives agents a web browser: tools that open pages,
// read them as clean text or as an accessibility tree, find and click
// elements, type into fields, choose options, submit forms, wait for
// pages, sign in with stored credentials, take screenshots and close —
// for web applications that have no API.
//
// # One code path, local or remote
//
// A Backend starts browsers that speak the Chrome DevTools Protocol;
// everything above it is the same code, driven through chromedp:
//
//   - NewLocal runs headless Chromium on this machine (Debian's chromium
//     package), one process with a fresh profile per session;
//   - the agentcore sub-package starts Amazon Bedrock AgentCore Browser
//     sessions and connects to their SigV4-signed automation stream;
//   - Connect attaches to any other DevTools WebSocket endpoint.
//
// A Pool keeps one session (a Tab) per agent session, and Pool.Tools
// turns it into agent tools. A Tab can also be used directly.
//
// # Element references
//
// The model acts on elements by reference: browser_read in tree mode and
// browser_find show "[ref=e42]" on every element that can be clicked or
// typed into. A reference is the element's DOM backend node ID, stable
// for the element's life in the page; a reference the session never
// showed for the current page, or one whose element is gone, is refused
// (ErrNoElement) — the model cannot invent CSS selectors or reach hidden
// elements. A click goes to the element's centre only if nothing covers
// it there.
//
// # Safety
//
//   - Origins: a session may contact only Options.AllowedOrigins (none by
//     default). Every request of the browser — pages, redirects, frames,
//     new windows, scripts, images, XHR, form posts — is paused and
//     checked before it leaves (the Fetch domain at the browser level);
//     other schemes (file, data, javascript, chrome) are refused. New
//     windows are closed; WebSockets, WebTransport, WebRTC and service
//     workers are removed from every page; Local also routes every host
//     outside the list to a closed proxy, so the list holds even for
//     traffic the protocol cannot pause.
//   - Untrusted content: everything a result quotes from a page — its
//     text, tree, title, address, dialog messages — is inside an
//     <untrusted_web_content> element followed by a note that it is data,
//     not instructions. Pages are the classic indirect prompt-injection
//     path: give the agent a guardrail (Agent.Guardrail, any guardrail.Guard, with a
//     PROMPT_ATTACK filter), which checks tool results before the model
//     sees them. Page scripts run in the page; the tools read pages from
//     an isolated JavaScript world the page cannot tamper with.
//   - Credentials: Options.Logins name the sites the agent may sign in
//     to; browser_sign_in types a secret from Options.Credentials (an
//     agent/credentials Provider) into a username or password input of
//     that site only. The model never sees the secret, and it is
//     redacted from every later result.
//   - Downloads and uploads are refused unless enabled (AllowDownloads
//     with a DownloadDir and a size limit; UploadFiles naming the files).
//   - Limits per session: lifetime, page loads, requests, page size
//     (elements and HTML bytes), text returned per read, time per step;
//     a pool key keeps its used budget across sessions until Drop.
//   - Release: a session's browser is released on every exit path —
//     Close, the pool's idle timeout and Close, the session's time
//     limit, a panicking tool, the context of OpenTab ending, a start
//     that fails or is cancelled — and a local browser dies with this
//     process (the kernel's parent-death signal).
//
// Screenshots (Options.Screenshots) show the model the page as an image,
// which a text guardrail cannot check; they are off by default.
package browser
