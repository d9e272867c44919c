// "Sign in as": only in the local run, which lists its demo organisations (GET /_local/tenants) and
// mints tokens for their service account owners (POST /_local/tokens). A deployed portal gets its token
// from the identity provider instead (config.js, signIn "external").

import { request } from "../api.js";
import config from "../config.js";
import { t } from "../i18n.js";
import { busy, errorBox, h, replace } from "../ui.js";

export async function render(section, _params, ctx) {
  if (config.signIn !== "local") {
    replace(section, h("h1", {}, t("signin.title")),
      h("p", {}, config.signIn === "external" ? t("signin.external") : t("signin.notConfigured")));
    return;
  }
  const { items } = await request("GET", "/_local/tenants", { auth: false });
  const errors = h("div");
  const list = h("ul", { class: "tenant-list" }, items.map((tenant) => {
    const button = h("button", {
      type: "button",
      class: "primary",
      dataset: { tenant: tenant.id },
      "aria-label": t("signin.button", { name: tenant.name }),
      onclick: async () => {
        replace(errors);
        try {
          const minted = await busy(button, () => request("POST", "/_local/tokens",
            { body: { tenant_id: tenant.id }, auth: false }));
          ctx.signIn(minted.token);
          ctx.go("/subscriptions");
        } catch (error) {
          replace(errors, errorBox(error));
        }
      },
    }, t("signin.title"));
    const via = tenant.managed_by && tenant.channel === "reseller" ? `, ${t("channel.reseller")} ${tenant.managed_by.name}` : "";
    return h("li", { class: "tenant card" },
      h("div", {},
        h("p", { class: "tenant-name" }, tenant.name),
        h("p", { class: "muted" },
          `${t(`edition.${tenant.edition}`)}${via} · ${tenant.plan_id} · ${t("signin.users", { n: tenant.users })}`),
        h("p", { class: "muted small" }, tenant.sao_email || tenant.sao_subject)),
      button);
  }));
  replace(section, h("h1", {}, t("signin.title")), h("p", { class: "lead" }, t("signin.intro")), errors, list);
}
