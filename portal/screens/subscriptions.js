// The subscription tiles: edition, plan, seats in use of paid, term dates, status, a scheduled
// reduction or cancellation with its undo, a prepaid renewal, and the result of the last change.
// Enterprise and reseller subscriptions are read only and name who makes changes.

import { api } from "../api.js";
import { date, planName, t, wordingText } from "../i18n.js";
import { acknowledgeDialog, h, notice, replace } from "../ui.js";

// The wording of an undo: the API refuses an unacknowledged change with the wording to show (and
// refuses first if the change is not possible at all, so that refusal is shown instead).
export async function wordingOf(path, body = {}) {
  try {
    await api.post(path, { ...body, acknowledged: false });
  } catch (error) {
    if (error.code === "acknowledgement_required" && error.details.acknowledgement) return error.details.acknowledgement;
    throw error;
  }
  throw new Error("the API accepted an unacknowledged change");
}

export function undoReduction(ctx, sub) {
  const path = `/subscriptions/${sub.id}/seat-reduction/undo`;
  return acknowledgeDialog({
    title: t("undoReduction.dialogTitle"),
    load: () => wordingOf(path),
    wordingText,
    confirm: async (version) => {
      const updated = await api.post(path, { acknowledged: true, acknowledgement_version: version });
      ctx.tileMessage(sub.id, t("undoReduction.done", { seats: updated.seats }));
      await ctx.account({ fresh: true });
      return updated;
    },
  });
}

export function undoCancellation(ctx, sub) {
  const path = `/subscriptions/${sub.id}/cancellation/undo`;
  return acknowledgeDialog({
    title: t("undoCancellation.dialogTitle"),
    load: () => wordingOf(path),
    wordingText,
    confirm: async (version) => {
      const updated = await api.post(path, { acknowledged: true, acknowledgement_version: version });
      ctx.tileMessage(sub.id, t("undoCancellation.done"));
      await ctx.account({ fresh: true });
      return updated;
    },
  });
}

function statusBadge(status) {
  return h("span", { class: `badge status-${status}` }, t(`status.${status}`));
}

function fact(label, value) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value));
}

export function tile(sub, ctx, { actions = true } = {}) {
  const titleId = `tile-${sub.id}`;
  const managed = sub.managed_by;
  const selfService = sub.self_service ?? (sub.edition === "business" && sub.channel === "direct");
  const message = ctx.state.tileMessages.get(sub.id);
  if (message && actions) ctx.state.tileMessages.delete(sub.id);

  const scheduled = [];
  if (sub.scheduled_reduction) {
    scheduled.push(h("div", { class: "scheduled", dataset: { kind: "reduction" } },
      h("p", { id: `${titleId}-reduction` }, t("tile.reduction", { seats: sub.scheduled_reduction.seats, date: date(sub.scheduled_reduction.effective_at) })),
      actions && selfService ? h("button", {
        type: "button", class: "secondary", "aria-describedby": `${titleId}-reduction`,
        onclick: async () => { if (await undoReduction(ctx, sub)) ctx.rerender(); },
      }, t("btn.undo")) : null));
  }
  if (sub.cancel_at && sub.status !== "ended") {
    scheduled.push(h("div", { class: "scheduled", dataset: { kind: "cancellation" } },
      h("p", { id: `${titleId}-cancellation` }, t("tile.cancellation", { date: date(sub.cancel_at) })),
      actions && selfService ? h("button", {
        type: "button", class: "secondary", "aria-describedby": `${titleId}-cancellation`,
        onclick: async () => { if (await undoCancellation(ctx, sub)) ctx.rerender(); },
      }, t("btn.undo")) : null));
  }
  if (sub.renewal) {
    scheduled.push(h("div", { class: "scheduled renewed", dataset: { kind: "renewal" } },
      h("p", {}, t("tile.renewal", { seats: sub.renewal.seats, start: date(sub.renewal.period_start),
        end: date(sub.renewal.period_end) }))));
  }
  if (sub.status === "past_due") {
    scheduled.push(h("div", { class: "scheduled warning" },
      h("p", {}, t("tile.pastDue")), h("a", { href: "#/invoices" }, t("tile.pastDueLink"))));
  }
  if (sub.status === "ended" && sub.ended_at) {
    scheduled.push(h("div", { class: "scheduled" }, h("p", {}, t("tile.ended", { date: date(sub.ended_at) }))));
  }

  let footer = null;
  if (managed) {
    const key = managed.kind === "reseller" ? "tile.managedByReseller" : "tile.managedByAccountManager";
    footer = h("p", { class: "managed" }, t(key, { name: managed.name, email: managed.email }));
  } else if (actions && selfService) {
    footer = h("div", { class: "actions" },
      sub.status !== "past_due" && !sub.renewal
        ? h("a", { class: "button primary", href: `#/subscriptions/${sub.id}/renew` }, t("btn.renew")) : null,
      sub.status === "active"
        ? h("a", { class: "button secondary", href: `#/subscriptions/${sub.id}/manage` }, t("btn.manage")) : null);
  }

  return h("article", { class: "tile card", "aria-labelledby": titleId, dataset: { subscription: sub.id, edition: sub.edition } },
    h("header", { class: "tile-head" },
      h("div", {}, h("h2", { id: titleId }, planName(sub)), h("p", { class: "muted small plan-id" }, sub.plan_id)),
      h("div", { class: "badges" },
        managed ? h("span", { class: "badge readonly" }, t("tile.readOnly")) : null,
        statusBadge(sub.status))),
    message ? notice(message) : null,
    h("dl", { class: "facts" },
      fact(t("tile.seats"), t("tile.seatsValue", { active: sub.active_users, seats: sub.seats })),
      fact(t("tile.period"), `${date(sub.current_period_start)} – ${date(sub.current_period_end)}`)),
    scheduled,
    footer);
}

export async function render(section, _params, ctx) {
  const account = await ctx.account({ fresh: true });
  if (!ctx.isCurrent()) return;
  replace(section,
    h("h1", {}, t("subs.title")),
    account.subscriptions.length
      ? h("div", { class: "tiles" }, account.subscriptions.map((sub) => tile(sub, ctx)))
      : h("p", {}, t("subs.none")));
}
