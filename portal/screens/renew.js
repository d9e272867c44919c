// Renew (SPEC 2.4): seats for the renewal period with the monthly cost from the quote to the right,
// Continue; the payment page with the default card selected and "add a new payment method", Continue;
// the overview, Pay. The result is shown on the subscription's tile.

import { api, ChargeAttempt, charge } from "../api.js";
import { cardLabel, date, lang, money, planName, t } from "../i18n.js";
import { busy, errorBox, h, notice, replace, seatPicker } from "../ui.js";
import { cardPicker } from "./cards.js";
import { tile } from "./subscriptions.js";

const STEPS = ["seats", "payment", "overview"];

export function quoteBreakdown(quote) {
  return h("ul", { class: "tiers" }, quote.tiers.map((tier) => h("li", {},
    t("quote.tier", { first: tier.first_seat, last: tier.last_seat, seats: tier.seats,
      unit: money(tier.unit_amount, quote.currency) }),
    h("span", { class: "amount" }, money(tier.amount, quote.currency)))));
}

export function totals(quote) {
  return h("dl", { class: "totals" },
    h("div", {}, h("dt", {}, t("quote.subtotal")), h("dd", {}, money(quote.amount_due, quote.currency))),
    h("div", {}, h("dt", {}, t("quote.vat", { rate: quote.tax_rate })), h("dd", {}, money(quote.tax_amount, quote.currency))),
    h("div", { class: "total" }, h("dt", {}, t("quote.total")), h("dd", { dataset: { total: quote.total } }, money(quote.total, quote.currency))),
    quote.reverse_charge ? h("p", { class: "hint" }, lang() === "en" && quote.tax_note ? quote.tax_note : t("quote.reverseCharge")) : null);
}

export function linesTable(quote) {
  return h("table", { class: "lines" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("invoice.description")),
      h("th", { scope: "col", class: "num" }, t("invoice.amount")))),
    h("tbody", {}, quote.lines.map((line) => h("tr", {},
      h("td", {}, line.description),
      h("td", { class: "num" }, money(line.amount, quote.currency))))));
}

// Asks for a quote whenever the seats change; only the answer to the latest question is shown.
export function quoteWatcher(subscriptionId, change, onQuote) {
  let asked = 0;
  return async (seats) => {
    const mine = ++asked;
    onQuote({ loading: true, seats });
    try {
      const quote = await api.get(`/subscriptions/${subscriptionId}/quote`, { change, seats });
      if (mine === asked) onQuote({ quote, seats });
    } catch (error) {
      if (mine === asked) onQuote({ error, seats });
    }
  };
}

function progress(current) {
  return h("ol", { class: "progress", "aria-label": t("renew.steps") }, STEPS.map((step, i) => h("li", {
    class: step === current ? "current" : STEPS.indexOf(current) > i ? "done" : "",
    "aria-current": step === current ? "step" : null,
  }, `${i + 1}. ${t(`renew.step.${step}`)}`)));
}

export async function render(section, params, ctx) {
  const sub = await ctx.subscription(params.id, { fresh: true });
  if (!ctx.isCurrent()) return;
  const key = `renew:${sub.id}`;
  const flow = ctx.state.flows.get(key) || {
    step: "seats",
    seats: sub.scheduled_reduction ? sub.scheduled_reduction.seats : sub.seats,
    quote: null,
    cardId: null,
    card: null,
    attempt: new ChargeAttempt(),
  };
  ctx.state.flows.set(key, flow);
  const head = [h("h1", {}, t("renew.title", { plan: planName(sub) })), h("p", { class: "muted" }, ctx.state.account.tenant.name)];

  if (sub.self_service === false) {
    replace(section, ...head, tile(sub, ctx, { actions: false }));
    return;
  }

  const body = h("div", { class: "flow" });
  replace(section, ...head, progress(flow.step), sub.status === "ended" ? notice(t("renew.ended"), "info") : null, body);
  const goTo = (step) => {
    flow.step = step;
    ctx.rerender();
  };

  if (flow.step === "seats") {
    const aside = h("aside", { class: "quote-aside", "aria-live": "polite", "aria-label": t("quote.monthly") });
    const errors = h("div");
    const next = h("button", { type: "button", class: "primary", disabled: true, onclick: () => goTo("payment") }, t("btn.continue"));
    const watch = quoteWatcher(sub.id, "renewal", ({ loading, quote, error, seats }) => {
      flow.seats = seats;
      next.disabled = !quote;
      if (loading) {
        aside.setAttribute("aria-busy", "true");
        return;
      }
      aside.removeAttribute("aria-busy");
      flow.quote = quote || null;
      replace(errors, error ? errorBox(error) : null);
      if (quote) {
        replace(aside,
          h("p", { class: "aside-label" }, t("quote.monthly")),
          h("p", { class: "big", dataset: { monthly: quote.monthly_amount } }, money(quote.monthly_amount, quote.currency)),
          quoteBreakdown(quote),
          h("p", { class: "hint" }, `${t("renew.period")}: ${date(quote.period_start)} – ${date(quote.period_end)}`));
      } else {
        replace(aside);
      }
    });
    const picker = seatPicker({ label: t("renew.seatsLabel"), value: flow.seats, min: Math.max(1, sub.active_users), onChange: watch });
    picker.hint.textContent = t("seats.floor", { n: sub.active_users });
    replace(body,
      h("div", { class: "split" }, h("div", { class: "card panel" }, picker.root, errors), aside),
      h("div", { class: "actions" },
        h("a", { class: "button secondary", href: "#/subscriptions" }, t("btn.back")), next));
    await watch(flow.seats);
    return;
  }

  if (!flow.quote) {
    goTo("seats");
    return;
  }

  if (flow.step === "payment") {
    const next = h("button", { type: "button", class: "primary", disabled: true, onclick: () => goTo("overview") }, t("btn.continue"));
    const picker = await cardPicker({
      selected: flow.cardId,
      onSelect: (card) => {
        flow.cardId = card ? card.id : null;
        flow.card = card;
        next.disabled = !card;
      },
    });
    replace(body,
      h("h2", {}, t("renew.paymentTitle")),
      h("div", { class: "card panel" }, picker),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => goTo("seats") }, t("btn.back")), next));
    return;
  }

  // Overview and Pay.
  const quote = flow.quote;
  const errors = h("div");
  const summary = h("div", { class: "card panel overview" });
  const drawSummary = (q) => replace(summary,
    h("dl", { class: "facts" },
      h("div", { class: "fact" }, h("dt", {}, t("renew.seats")), h("dd", {}, String(q.seats))),
      h("div", { class: "fact" }, h("dt", {}, t("renew.period")), h("dd", {}, `${date(q.period_start)} – ${date(q.period_end)}`)),
      h("div", { class: "fact" }, h("dt", {}, t("quote.monthly")), h("dd", {}, money(q.monthly_amount, q.currency))),
      h("div", { class: "fact" }, h("dt", {}, t("renew.card")), h("dd", {}, flow.card ? cardLabel(flow.card) : ""))),
    linesTable(q),
    totals(q));
  drawSummary(quote);
  const back = h("button", { type: "button", class: "secondary", onclick: () => goTo("payment") }, t("btn.back"));
  const pay = h("button", { type: "button", class: "primary pay" }, t("btn.payAmount", { amount: money(quote.total, quote.currency) }));
  pay.addEventListener("click", async () => {
    replace(errors);
    const body = { seats: flow.quote.seats, payment_method_id: flow.cardId, expected_total: flow.quote.total };
    try {
      await busy([pay, back], () => charge(flow.attempt, `/subscriptions/${sub.id}/renewal`, body));
    } catch (error) {
      replace(errors, errorBox(error));
      if (error.code === "price_changed") {
        // Nothing was charged: show the new price; paying it is a new attempt with a new key.
        try {
          flow.quote = await api.get(`/subscriptions/${sub.id}/quote`, { change: "renewal", seats: flow.quote.seats });
          drawSummary(flow.quote);
          pay.textContent = t("btn.payAmount", { amount: money(flow.quote.total, flow.quote.currency) });
        } catch (again) {
          replace(errors, errorBox(again));
        }
      }
      return;
    }
    ctx.state.flows.delete(key);
    const renewed = (await ctx.subscription(sub.id, { fresh: true })).renewal;
    const paid = money(flow.quote.total, flow.quote.currency);
    ctx.tileMessage(sub.id, t("renew.done", {
      seats: renewed ? renewed.seats : flow.quote.seats,
      start: date(renewed ? renewed.period_start : flow.quote.period_start),
      end: date(renewed ? renewed.period_end : flow.quote.period_end),
      amount: paid,
    }));
    ctx.go("/subscriptions");
  });
  replace(body,
    h("h2", {}, t("renew.overviewTitle")),
    h("p", {}, t("renew.overviewIntro")),
    summary,
    errors,
    h("div", { class: "actions" }, back, pay));
}
