// The page of `sentiment-rnn serve`: POST /predict as the user types (debounced), draw the answers.
// Served by the server itself, with no other script, font or style from anywhere else.
"use strict";

const DEBOUNCE_MS = 150;
const text = document.getElementById("text");
const tokens = document.getElementById("tokens");
const errorLine = document.getElementById("error");
let timer = null;
let sent = 0; // the number of the latest request: older answers are dropped

// Red (0) through pale yellow (0.5) to green (1), as a CSS colour.
function colour(p) {
  const hue = 120 * p;
  return `hsl(${hue.toFixed(0)}, 70%, ${(85 - 20 * Math.abs(p - 0.5)).toFixed(0)}%)`;
}

// A model of more than two classes: where a token's top class stands among them, from the first (0) to the
// last (1), so negative ... positive (or 1 ... 5 stars) run from red to green as the two classes do.
function place(t) {
  const classes = Object.keys(t.probabilities);
  return classes.length > 1 ? classes.indexOf(t.label) / (classes.length - 1) : 0.5;
}

function showAnswer(prefix, answer) {
  const label = document.getElementById(`${prefix}-label`);
  label.textContent = answer.label;
  label.className = `label ${answer.label}`;
  document.getElementById(`${prefix}-probability`).textContent = answer.probability.toFixed(4);
}

function showTokens(list) {
  tokens.replaceChildren(
    ...list.map((t) => {
      const cell = document.createElement("div");
      cell.className = t.unknown ? "cell unknown" : "cell";
      const many = t.probabilities !== undefined; // more than two classes: the top one after this token
      cell.style.background = colour(many ? place(t) : t.probability);
      const after = many ? `p(${t.label}) after "${t.token}"` : `p(positive) after "${t.token}"`;
      cell.title = t.unknown ? `"${t.token}" is not in the vocabulary: read as [UNK]` : after;
      const word = document.createElement("span");
      word.className = "word";
      word.textContent = t.token;
      const p = document.createElement("span");
      p.className = "p";
      p.textContent = many ? `${t.label} ${t.probability.toFixed(2)}` : t.probability.toFixed(3);
      cell.append(word, p);
      return cell;
    }),
  );
}

async function update() {
  const number = ++sent;
  try {
    const response = await fetch("/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ texts: [text.value], per_token: true }),
    });
    const body = await response.json();
    if (number !== sent) return;
    if (!response.ok) throw new Error(body.error);
    errorLine.hidden = true;
    showAnswer("rnn", body.predictions[0]);
    document.getElementById("rnn").dataset.text = body.predictions[0].text;
    showTokens(body.predictions[0].tokens);
    const bow = document.getElementById("bow");
    bow.hidden = !body.bow;
    if (body.bow) showAnswer("bow", body.bow[0]);
    document.body.dataset.state = "ready";
  } catch (err) {
    if (number !== sent) return;
    errorLine.textContent = err.message;
    errorLine.hidden = false;
    document.body.dataset.state = "error";
  }
}

function schedule() {
  document.body.dataset.state = "typing";
  clearTimeout(timer);
  timer = setTimeout(update, DEBOUNCE_MS);
}

text.addEventListener("input", schedule);
for (const button of document.querySelectorAll("button.seed")) {
  button.addEventListener("click", () => {
    text.value = button.dataset.text;
    schedule();
  });
}
update();
