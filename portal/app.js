// The portal: sign-in, a hash router over the screens, and the little state they share.

import { api, ApiError, hasToken, setToken, whenUnauthorized } from "./api.js";
import config from "./config.js";
import { lang, languages, setLang, t } from "./i18n.js";
import { errorBox, h, loading, notice, replace } from "./ui.js";
import * as activity from "./screens/activity.js";
import * as billing from "./screens/billing.js";
import * as invoices from "./screens/invoices.js";
import * as manage from "./screens/manage.js";
import * as renew from "./screens/renew.js";
import * as signin from "./screens/signin.js";
import * as subscriptions from "./screens/subscriptions.js";
import * as users from "./screens/users.js";

const TOKEN_KEY = "selfservice.token";

const state = {
  account: null, // GET /account, refreshed after every change
  notice: null, // {text, kind}: shown once at the top of the next screen
  tileMessages: new Map(), // subscription id -> text: the result of a change, shown once on its tile
  flows: new Map(), // per-flow state that survives a language switch (e.g. the renew steps)
};

// Routes: pattern -> [screen, nav entry]. Parameters are :names.
const routes = [
  ["/signin", signin.render, null],
  ["/subscriptions", subscriptions.render, "subscriptions"],
  ["/subscriptions/:id/renew", renew.render, "subscriptions"],
  ["/subscriptions/:id/manage", manage.render, "subscriptions"],
  ["/subscriptions/:id/add-seats", manage.renderAddSeats, "subscriptions"],
  ["/subscriptions/:id/fewer", manage.renderFewer, "subscriptions"],
  ["/subscriptions/:id/upgrade", manage.renderUpgrade, "subscriptions"],
  ["/billing", billing.render, "billing"],
  ["/invoices", invoices.render, "invoices"],
  ["/invoices/:id", invoices.renderInvoice, "invoices"],
  ["/users", users.render, "users"],
  ["/activity", activity.render, "activity"],
];

const NAV = [
  ["subscriptions", "/subscriptions"],
  ["billing", "/billing"],
  ["invoices", "/invoices"],
  ["users", "/users"],
  ["activity", "/activity"],
];

function match(path) {
  for (const [pattern, screen, nav] of routes) {
    const names = [];
    const regex = new RegExp(`^${pattern.replace(/:(\w+)/g, (_, name) => {
      names.push(name);
      return "([^/]+)";
    })}$`);
    const found = regex.exec(path);
    if (found) {
      const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { screen, nav, params };
    }
  }
  return null;
}

function currentPath() {
  const path = location.hash.replace(/^#/, "") || "/subscriptions";
  return path.startsWith("/") ? path : `/${path}`;
}

function go(path) {
  if (currentPath() === path) {
    render();
  } else {
    location.hash = `#${path}`;
  }
}

const ctx = {
  state,
  go,
  rerender: () => render(),
  notify(text, kind = "success") {
    state.notice = { text, kind };
  },
  tileMessage(subscriptionId, text) {
    state.tileMessages.set(subscriptionId, text);
  },
  async account({ fresh = false } = {}) {
    if (fresh || !state.account) state.account = await api.get("/account");
    renderHeader();
    return state.account;
  },
  async subscription(id, { fresh = false } = {}) {
    const account = await ctx.account({ fresh });
    const found = account.subscriptions.find((s) => s.id === id);
    if (!found) throw new ApiError({ kind: "api", status: 404, code: "not_found" });
    return found;
  },
  signIn(tokenValue) {
    setToken(tokenValue);
    try { sessionStorage.setItem(TOKEN_KEY, tokenValue); } catch { /* private mode */ }
    state.account = null;
  },
  signOut(message) {
    setToken(null);
    try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* ignore */ }
    state.account = null;
    state.flows.clear();
    state.tileMessages.clear();
    for (const dialog of document.querySelectorAll("dialog")) dialog.remove();
    if (message) ctx.notify(message, "error");
    go("/signin");
  },
};

whenUnauthorized(() => ctx.signOut(t("signin.expired")));

function renderHeader() {
  document.title = t("app.title");
  document.getElementById("skip-link").textContent = t("app.skip");
  document.getElementById("brand").textContent = t("app.title");
  const tenant = document.getElementById("tenant");
  tenant.textContent = state.account ? t("signedin.as", { tenant: state.account.tenant.name }) : "";
  const signout = document.getElementById("signout");
  signout.textContent = t("signout");
  signout.hidden = !hasToken();
  document.getElementById("lang-label").textContent = t("lang.label");
  const select = document.getElementById("lang");
  if (!select.options.length) {
    for (const { code, name } of languages) select.append(h("option", { value: code, lang: code }, name));
  }
  select.value = lang();
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t("nav.label"));
  nav.hidden = !hasToken();
  const active = match(currentPath())?.nav;
  replace(nav.querySelector("ul"), NAV.map(([key, path]) => h("li", {},
    h("a", { href: `#${path}`, "aria-current": key === active ? "page" : null }, t(`nav.${key}`)))));
}

let generation = 0;

async function render({ keepFocus = false } = {}) {
  const mine = ++generation;
  const view = document.getElementById("view");
  const path = currentPath();
  if (!hasToken() && path !== "/signin") {
    if (await externalSignIn()) {
      // signed in through the identity provider: carry on to the page asked for
    } else {
      go("/signin");
      return;
    }
  }
  renderHeader();
  const found = match(path);
  const section = h("section", { class: "screen", "aria-busy": "true" });
  const shown = state.notice;
  state.notice = null;
  replace(view, shown ? notice(shown.text, shown.kind) : null, section);
  section.append(loading());
  const isCurrent = () => mine === generation;
  try {
    if (!found) {
      replace(section, h("h1", { tabindex: "-1" }, t("error.title")),
        notice(t("error.unknownView"), "error"),
        h("p", {}, h("a", { href: "#/subscriptions" }, t("btn.backToSubscriptions"))));
    } else {
      await found.screen(section, found.params, { ...ctx, isCurrent });
    }
  } catch (error) {
    if (!isCurrent()) return;
    if (error instanceof ApiError && error.status === 401) return; // signing out already
    replace(section, h("h1", { tabindex: "-1" }, t("error.title")),
      errorBox(error, { retry: () => render() }));
    if (!(error instanceof ApiError)) console.error(error);
  } finally {
    section.removeAttribute("aria-busy");
  }
  if (!isCurrent()) return;
  renderHeader();
  if (!keepFocus) {
    const heading = section.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }
}

async function externalSignIn() {
  if (config.signIn !== "external") return false;
  try {
    const tokenValue = await config.getToken();
    if (tokenValue) {
      ctx.signIn(tokenValue);
      return true;
    }
  } catch (error) {
    console.error(error);
  }
  if (config.signInUrl) location.assign(config.signInUrl);
  return false;
}

function start() {
  setLang(lang());
  try {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) setToken(saved);
  } catch { /* ignore */ }
  document.getElementById("lang").addEventListener("change", (event) => {
    setLang(event.target.value);
    render({ keepFocus: true }).then(() => document.getElementById("lang").focus());
  });
  document.getElementById("signout").addEventListener("click", () => ctx.signOut());
  // The hash is the router's: the skip link moves focus instead of following "#view".
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("view").focus();
  });
  window.addEventListener("hashchange", () => render());
  render();
}

start();
