// The console's only script, served by mailhive itself: every few seconds it fetches
// the dashboard (or the connections page) again and puts its <main> in place of this one, so the figures stay
// current. The pages work the same without it.
"use strict";

const REFRESH_MS = 3000;
const REFRESHED_PAGES = ["dashboard", "connections"];

async function refresh() {
  try {
    const answer = await fetch(window.location.pathname, {
      credentials: "same-origin",
      headers: { "Accept": "text/html" },
      redirect: "error",
    });
    if (!answer.ok) {
      return;
    }
    const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
    const main = fresh.getElementById("main");
    if (main) {
      document.getElementById("main").replaceWith(main);
    }
  } catch (e) {
    // A server that is restarting answers again later.
  }
}

if (REFRESHED_PAGES.includes(document.body.dataset.page)) {
  window.setInterval(refresh, REFRESH_MS);
}
