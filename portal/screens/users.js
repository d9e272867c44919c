// Users: who holds a licence, assigning one, removing one (the count catches up after two minutes,
// SPEC 2.1). Reducing seats below the active users needs this first.

import { api, fieldErrors } from "../api.js";
import { dateTime, t } from "../i18n.js";
import { busy, confirmDialog, errorBox, field, h, replace, showFieldErrors } from "../ui.js";

export async function render(section, _params, ctx) {
  // Every page (at most 100 users each): a tenant may hold thousands of licences.
  const page = { items: [] };
  for (let cursor = null, first = true; first || cursor; first = false) {
    const next = await api.get("/users", { cursor });
    page.items.push(...next.items);
    cursor = next.next_cursor;
  }
  if (!ctx.isCurrent()) return;
  const status = h("div", { "aria-live": "polite" });
  const email = field({ name: "email", label: t("users.assignLabel"), type: "email", required: true, autocomplete: "off" });
  const assign = h("button", { type: "submit", class: "primary" }, t("btn.assign"));
  const form = h("form", {
    class: "card panel inline-form",
    onsubmit: async (event) => {
      event.preventDefault();
      replace(status);
      showFieldErrors({ email }, []);
      try {
        const user = await busy(assign, () => api.post("/users", { email: email.input.value.trim() }));
        ctx.notify(t("users.assignedDone", { email: user.email }));
        ctx.rerender();
      } catch (error) {
        showFieldErrors({ email }, fieldErrors(error));
        replace(status, errorBox(error));
      }
    },
  }, email.root, h("div", { class: "actions" }, assign));
  const users = page.items;
  replace(section,
    h("h1", {}, t("users.title")),
    h("p", { class: "lead" }, t("users.intro")),
    status,
    form,
    h("div", { class: "card table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, t("users.email")),
        h("th", { scope: "col" }, t("users.status")),
        h("th", { scope: "col" }, t("users.assigned")),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("invoices.actions"))))),
      h("tbody", {}, users.map((user) => h("tr", { dataset: { user: user.id } },
        h("th", { scope: "row" }, user.email),
        h("td", {}, h("span", { class: `badge user-${user.status}` }, t(`users.status.${user.status}`)),
          user.removed_at ? h("span", { class: "muted small" }, ` ${dateTime(user.removed_at)}`) : null),
        h("td", {}, dateTime(user.assigned_at)),
        h("td", { class: "row-actions" }, user.status === "active" ? h("button", {
          type: "button", class: "danger-link", "aria-label": `${t("btn.remove")}: ${user.email}`,
          onclick: async () => {
            const removed = await confirmDialog({
              title: t("users.removeTitle", { email: user.email }),
              text: t("users.removeText"),
              confirmLabel: t("btn.remove"),
              danger: true,
              confirm: () => api.del(`/users/${user.id}`),
            });
            if (removed) {
              ctx.notify(t("users.removedDone", { email: user.email }));
              ctx.rerender();
            }
          },
        }, t("btn.remove")) : null)))))));
}
