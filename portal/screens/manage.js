// Manage (SPEC 2.5-2.8): add seats (the pro-rata amount shown before paying), fewer licences and cancel
// (each with the confirmation dialog, the "I understand" box and Confirm), and the upgrade request.

import { api, ChargeAttempt, charge } from "../api.js";
import { cardLabel, date, money, planName, t, wordingText } from "../i18n.js";
import { acknowledgeDialog, busy, errorBox, h, notice, replace, seatPicker, uid } from "../ui.js";
import { loadCards } from "./cards.js";
import { linesTable, quoteBreakdown, quoteWatcher, totals } from "./renew.js";
import { tile, wordingOf } from "./subscriptions.js";

function heading(sub, key, ctx) {
  return [
    h("h1", {}, key === "manage.title" ? t(key, { plan: planName(sub) }) : t(key)),
    h("p", { class: "muted" }, key === "manage.title" ? ctx.state.account.tenant.name
      : `${planName(sub)} · ${ctx.state.account.tenant.name}`),
  ];
}

function backLink(sub) {
  return h("a", { class: "button secondary", href: `#/subscriptions/${sub.id}/manage` }, t("btn.back"));
}

async function selfServiceSubscription(section, params, ctx, titleKey) {
  const sub = await ctx.subscription(params.id, { fresh: true });
  if (!ctx.isCurrent()) return null;
  if (sub.self_service === false) {
    replace(section, ...heading(sub, titleKey, ctx), tile(sub, ctx, { actions: false }));
    return null;
  }
  return sub;
}

export function cancelSubscription(ctx, sub) {
  const path = `/subscriptions/${sub.id}/cancellation`;
  const reasonId = uid("reason");
  let reason;
  return acknowledgeDialog({
    title: t("cancel.dialogTitle"),
    load: () => wordingOf(path),
    wordingText,
    extraFields: () => {
      reason = h("textarea", { id: reasonId, rows: 2, maxlength: 1000 });
      return [h("div", { class: "field" }, h("label", { for: reasonId }, t("cancel.reason")), reason)];
    },
    confirm: async (version) => {
      const body = { acknowledged: true, acknowledgement_version: version };
      if (reason.value.trim()) body.reason = reason.value.trim();
      const updated = await api.post(path, body);
      ctx.tileMessage(sub.id, t("cancel.done", { date: date(updated.cancel_at) }));
      await ctx.account({ fresh: true });
      return updated;
    },
  });
}

function option({ title, text, action, note }) {
  const id = uid("option");
  return h("section", { class: "card option-card", "aria-labelledby": id },
    h("h2", { id }, title), h("p", {}, text), note || null, h("div", { class: "actions" }, action));
}

export async function render(section, params, ctx) {
  const sub = await selfServiceSubscription(section, params, ctx, "manage.title");
  if (!sub) return;
  const manager = ctx.state.account.tenant.account_manager;
  const cancelButton = h("button", {
    type: "button", class: "danger-outline",
    onclick: async () => {
      if (await cancelSubscription(ctx, sub)) ctx.go("/subscriptions");
    },
  }, t("btn.cancelSubscription"));
  replace(section, ...heading(sub, "manage.title", ctx),
    h("p", { class: "lead" }, t("manage.intro")),
    tile(sub, ctx, { actions: false }),
    h("div", { class: "options" },
      option({
        title: t("btn.addSeats"), text: t("manage.addSeats.text"),
        note: sub.scheduled_reduction ? h("p", { class: "hint" }, t("add.reductionPending")) : null,
        action: h("a", { class: "button primary", href: `#/subscriptions/${sub.id}/add-seats` }, t("btn.addSeats")),
      }),
      option({
        title: t("btn.fewer"), text: t("manage.fewer.text"),
        action: h("a", { class: "button secondary", href: `#/subscriptions/${sub.id}/fewer` }, t("btn.fewer")),
      }),
      option({
        title: t("btn.cancelSubscription"), text: t("manage.cancel.text"),
        note: sub.cancel_at ? h("p", { class: "hint" }, t("manage.cancelScheduled", { date: date(sub.cancel_at) })) : null,
        action: sub.cancel_at ? null : cancelButton,
      }),
      option({
        title: t("btn.upgrade"), text: t("manage.upgrade.text", { name: manager ? manager.name : "" }),
        action: h("a", { class: "button secondary", href: `#/subscriptions/${sub.id}/upgrade` }, t("btn.upgrade")),
      })),
    h("p", { class: "back-link" }, h("a", { href: "#/subscriptions" }, t("btn.backToSubscriptions"))));
}

// Add seats: the new total, the pro-rata amount due now, the card, Pay.
export async function renderAddSeats(section, params, ctx) {
  const sub = await selfServiceSubscription(section, params, ctx, "add.title");
  if (!sub) return;
  const attempt = new ChargeAttempt();
  let quote = null;
  let cards = [];
  let cardsError = null;
  try {
    cards = await loadCards();
  } catch (error) {
    cardsError = error;
  }
  if (!ctx.isCurrent()) return;
  const cardId = uid("card-select");
  const select = h("select", { id: cardId }, cards.map((card) => h("option", { value: card.id, selected: card.is_default }, cardLabel(card))));
  const cardField = cards.length
    ? h("div", { class: "field" }, h("label", { for: cardId }, t("add.cardLabel")), select)
    : cardsError && cardsError.kind !== "route_missing" ? errorBox(cardsError)
      : notice(cardsError ? t("cards.unavailable") : t("add.noCard"), "info");
  const aside = h("aside", { class: "quote-aside", "aria-live": "polite", "aria-label": t("quote.dueNow") });
  const errors = h("div");
  const pay = h("button", { type: "button", class: "primary pay", disabled: true }, t("btn.pay"));
  const watch = quoteWatcher(sub.id, "increase", ({ loading, quote: q, error }) => {
    pay.disabled = true;
    if (loading) {
      aside.setAttribute("aria-busy", "true");
      return;
    }
    aside.removeAttribute("aria-busy");
    quote = q || null;
    replace(errors, error ? errorBox(error) : null);
    if (!quote) {
      replace(aside);
      return;
    }
    pay.disabled = !cards.length;
    pay.textContent = t("btn.payAmount", { amount: money(quote.total, quote.currency) });
    replace(aside,
      h("p", { class: "aside-label" }, t("add.prorata", { date: date(quote.period_end) })),
      h("p", { class: "big", dataset: { due: quote.total } }, money(quote.total, quote.currency)),
      linesTable(quote),
      totals(quote),
      h("p", { class: "hint" }, `${t("quote.monthly")}: ${money(quote.monthly_amount, quote.currency)}`),
      quoteBreakdown(quote));
  });
  const picker = seatPicker({ label: t("add.seatsLabel"), value: sub.seats + 1, min: sub.seats + 1, onChange: watch });
  picker.hint.textContent = `${t("tile.seats")}: ${t("tile.seatsValue", { active: sub.active_users, seats: sub.seats })}`;
  pay.addEventListener("click", async () => {
    replace(errors);
    const body = { seats: quote.seats, payment_method_id: select.value || undefined, expected_total: quote.total };
    try {
      await busy([pay], () => charge(attempt, `/subscriptions/${sub.id}/seats`, body));
    } catch (error) {
      replace(errors, errorBox(error));
      if (error.code === "price_changed") await watch(quote.seats);
      return;
    }
    ctx.tileMessage(sub.id, t("add.done", { seats: quote.seats, amount: money(quote.total, quote.currency) }));
    await ctx.account({ fresh: true });
    ctx.go("/subscriptions");
  });
  replace(section, ...heading(sub, "add.title", ctx),
    sub.scheduled_reduction ? notice(t("add.reductionPending"), "info") : null,
    h("div", { class: "split" }, h("div", { class: "card panel" }, picker.root, cardField, errors), aside),
    h("div", { class: "actions" }, backLink(sub), pay));
  await watch(sub.seats + 1);
}

// Fewer licences: the seats for the next period with the monthly cost to the right, Continue, then the
// confirmation dialog with the wording from the quote, "I understand" and Confirm.
export async function renderFewer(section, params, ctx) {
  const sub = await selfServiceSubscription(section, params, ctx, "fewer.title");
  if (!sub) return;
  const aside = h("aside", { class: "quote-aside", "aria-live": "polite", "aria-label": t("quote.monthly") });
  const errors = h("div");
  let quote = null;
  const next = h("button", { type: "button", class: "primary", disabled: true }, t("btn.continue"));
  const watch = quoteWatcher(sub.id, "reduction", ({ loading, quote: q, error }) => {
    next.disabled = true;
    if (loading) {
      aside.setAttribute("aria-busy", "true");
      return;
    }
    aside.removeAttribute("aria-busy");
    quote = q || null;
    replace(errors, error ? errorBox(error) : null);
    if (!quote) {
      replace(aside);
      return;
    }
    next.disabled = false;
    replace(aside,
      h("p", { class: "aside-label" }, t("quote.monthly")),
      h("p", { class: "big", dataset: { monthly: quote.monthly_amount } }, money(quote.monthly_amount, quote.currency)),
      quoteBreakdown(quote),
      h("p", { class: "hint" }, t("quote.effective", { date: date(quote.effective_at) })));
  });
  const start = sub.scheduled_reduction ? sub.scheduled_reduction.seats : sub.seats - 1;
  const min = Math.max(1, sub.active_users);
  const picker = seatPicker({ label: t("fewer.seatsLabel"), value: Math.max(min, start), min, max: Math.max(min, sub.seats - 1), onChange: watch });
  picker.hint.textContent = t("seats.floor", { n: sub.active_users });
  next.addEventListener("click", async () => {
    const chosen = quote;
    const done = await acknowledgeDialog({
      title: t("fewer.dialogTitle", { seats: chosen.seats }),
      load: async () => chosen.acknowledgement || wordingOf(`/subscriptions/${sub.id}/seat-reduction`, { seats: chosen.seats }),
      wordingText,
      confirm: async (version) => {
        const updated = await api.post(`/subscriptions/${sub.id}/seat-reduction`,
          { seats: chosen.seats, acknowledged: true, acknowledgement_version: version });
        ctx.tileMessage(sub.id, t("fewer.done", { seats: chosen.seats,
          date: date(updated.scheduled_reduction ? updated.scheduled_reduction.effective_at : chosen.effective_at) }));
        await ctx.account({ fresh: true });
        return updated;
      },
    });
    if (done) ctx.go("/subscriptions");
  });
  replace(section, ...heading(sub, "fewer.title", ctx),
    h("p", { class: "lead" }, t("manage.fewer.text")),
    h("div", { class: "split" }, h("div", { class: "card panel" }, picker.root, errors), aside),
    h("div", { class: "actions" }, backLink(sub), next));
  if (sub.seats <= min) {
    // Nothing to reduce to: let the API say why (below the active users, or one seat already).
    try {
      await api.get(`/subscriptions/${sub.id}/quote`, { change: "reduction", seats: sub.seats - 1 });
    } catch (error) {
      replace(errors, errorBox(error));
    }
    return;
  }
  await watch(Math.max(min, start));
}

export async function renderUpgrade(section, params, ctx) {
  const sub = await selfServiceSubscription(section, params, ctx, "upgrade.title");
  if (!sub) return;
  const manager = ctx.state.account.tenant.account_manager;
  const messageId = uid("message");
  const message = h("textarea", { id: messageId, rows: 4, maxlength: 2000 });
  const result = h("div", { "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "primary" }, t("btn.send"));
  const form = h("form", {
    class: "card panel",
    onsubmit: async (event) => {
      event.preventDefault();
      replace(result);
      try {
        const body = message.value.trim() ? { message: message.value.trim() } : {};
        const receipt = await busy(send, () => api.post(`/subscriptions/${sub.id}/upgrade-request`, body));
        const to = receipt.account_manager || manager;
        replace(result, notice(t("upgrade.done", { name: to.name, email: to.email })));
        message.value = "";
      } catch (error) {
        replace(result, errorBox(error));
      }
    },
  },
  h("p", {}, t("manage.upgrade.text", { name: manager ? manager.name : "" })),
  h("div", { class: "field" }, h("label", { for: messageId }, t("upgrade.message")), message),
  result,
  h("div", { class: "actions" }, send));
  replace(section, ...heading(sub, "upgrade.title", ctx), form, h("div", { class: "actions" }, backLink(sub)));
}
