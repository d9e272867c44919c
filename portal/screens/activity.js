// Activity: the tenant's audit history (SPEC 2.14), newest first, a page at a time.

import { api } from "../api.js";
import { dateTime, t } from "../i18n.js";
import { busy, errorBox, h, replace } from "../ui.js";

function what(item) {
  // "subscription.reduction_scheduled" -> "Subscription: reduction scheduled"
  const [kind, action = ""] = String(item.type).split(".");
  const label = `${kind.charAt(0).toUpperCase()}${kind.slice(1)}: ${action.replace(/_/g, " ")}`;
  const seats = item.data && item.data.seats != null ? ` (${item.data.seats})` : "";
  return label + seats;
}

export async function render(section, _params, ctx) {
  const page = await api.get("/activity");
  if (!ctx.isCurrent()) return;
  const rows = h("tbody");
  const status = h("div");
  const more = h("div", { class: "actions" });
  const add = (items) => rows.append(...items.map((item) => h("tr", {},
    h("td", {}, dateTime(item.at)),
    h("td", {}, what(item)),
    h("td", {}, item.actor))));
  const showMore = (cursor) => replace(more, cursor ? h("button", {
    type: "button", class: "secondary",
    onclick: async (event) => {
      try {
        const next = await busy(event.currentTarget, () => api.get("/activity", { cursor }));
        add(next.items);
        showMore(next.next_cursor);
      } catch (error) {
        replace(status, errorBox(error));
      }
    },
  }, t("btn.loadMore")) : null);
  add(page.items);
  showMore(page.next_cursor);
  replace(section, h("h1", {}, t("activity.title")), status,
    page.items.length ? h("div", { class: "card table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, t("activity.when")),
        h("th", { scope: "col" }, t("activity.what")),
        h("th", { scope: "col" }, t("activity.who")))),
      rows)) : h("p", {}, t("activity.none")),
    more);
}
