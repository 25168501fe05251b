// The page of `sentiment-rnn serve`: POST /predict (a classifier) and POST /guess (a language model) as the user
// types (debounced), draw the answers; /healthz says which of the two boxes this server has.
// Served by the server itself, with no other script, font or style from anywhere else.
"use strict";

const DEBOUNCE_MS = 150;
const GUESSES = 10; // words the guess box shows
const GUESS_BAR_REM = 16; // width of a guess's bar at probability 1
const TERM_BAR_REM = 0.6; // width of a term's bar per unit of log-odds, up to TERM_BAR_MAX
const TERM_BAR_MAX = 5;
const KINDS = {
  rnn: "a recurrent network",
  hybrid: "a hybrid of a recurrent network and n-grams",
  bow: "a bag of words",
  lm: "a language model",
};
const TITLES = { rnn: "Recurrent network", hybrid: "Hybrid: recurrent network + n-grams", bow: "Bag of words" };
const TERMS = {
  recurrent: ["r", "the recurrent network's log-odds after this word"],
  ngrams: ["n", "the log-odds of the n-grams met so far"],
};
const text = document.getElementById("text");
const tokens = document.getElementById("tokens");
const errorLine = document.getElementById("error");
let timer = null;
let sent = 0; // the number of the latest request: older answers are dropped
let perToken = true; // false for a model that reads no order (a bag of words), as /healthz tells
const guessBox = document.getElementById("guess");
const guessText = document.getElementById("guess-text");
const guessError = document.getElementById("guess-error");
let guessTimer = null;
let guessing = false; // a guess is on its way: the next waits for it (a blank can take a second or more)
let guessAgain = false; // the text changed meanwhile: guess again once the answer is in

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

// A number of log-odds with its sign, two decimals: +1.25, -0.40.
function signed(value) {
  return (value >= 0 ? "+" : "") + value.toFixed(2);
}

// "Answering: reviews-en, a hybrid of ..., bundled with sentiment-rnn" from an answer's "model".
function describeModel(model) {
  const members = model.members ? `, an ensemble of ${model.members}` : "";
  const where = model.bundled ? "bundled with sentiment-rnn" : `from ${model.path}`;
  return `Answering: ${model.name}, ${KINDS[model.kind] || model.kind}${members}, ${where}`;
}

function showAnswer(prefix, answer) {
  const label = document.getElementById(`${prefix}-label`);
  label.textContent = answer.label;
  label.className = `label ${answer.label}`;
  document.getElementById(`${prefix}-probability`).textContent = answer.probability.toFixed(4);
}

// One term of a hybrid's logit under a word: its letter, a bar as long as its size, its value.
function term(name, value) {
  const [letter, meaning] = TERMS[name];
  const row = document.createElement("span");
  row.className = `term ${name} ${value >= 0 ? "up" : "down"}`;
  row.title = `${meaning}: ${signed(value)}`;
  const key = document.createElement("span");
  key.className = "name";
  key.textContent = letter;
  const bar = document.createElement("span");
  bar.className = "bar";
  bar.style.width = `${(Math.min(Math.abs(value), TERM_BAR_MAX) * TERM_BAR_REM).toFixed(2)}rem`;
  const number = document.createElement("span");
  number.className = "value";
  number.textContent = signed(value);
  row.append(key, bar, number);
  return row;
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
      if (t.recurrent !== undefined) cell.append(term("recurrent", t.recurrent), term("ngrams", t.ngrams));
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
      body: JSON.stringify({ texts: [text.value], per_token: perToken }),
    });
    const body = await response.json();
    if (number !== sent) return;
    if (!response.ok) throw new Error(body.error);
    errorLine.hidden = true;
    const answer = body.predictions[0];
    showAnswer("rnn", answer);
    document.getElementById("rnn").dataset.text = answer.text;
    document.getElementById("model").textContent = describeModel(answer.model);
    showTokens(answer.tokens || []);
    document.getElementById("terms-note").hidden = answer.bias === undefined;
    if (answer.bias !== undefined) document.getElementById("bias").textContent = signed(answer.bias);
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

// The guess box: the most probable words, each with its probability as a number and a bar.
function showGuesses(answer) {
  document.getElementById("guess-what").textContent = answer.blank ? "Words for the blank" : "The next word";
  document.getElementById("guesses").replaceChildren(
    ...answer.guesses.map((g) => {
      const item = document.createElement("li");
      item.className = "guess";
      item.title = `P("${g.word}") = ${g.probability.toFixed(4)}`;
      const word = document.createElement("span");
      word.className = "word";
      word.textContent = g.word;
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = `${(g.probability * GUESS_BAR_REM).toFixed(2)}rem`;
      const p = document.createElement("span");
      p.className = "p";
      p.textContent = g.probability.toFixed(4);
      item.append(word, bar, p);
      return item;
    }),
  );
  const unknown = document.getElementById("guess-unknown");
  unknown.hidden = answer.unknown_words.length === 0;
  unknown.textContent = `Not in the model's vocabulary, read as [UNK]: ${answer.unknown_words.join(", ")}`;
  document.getElementById("guess-model").textContent = describeModel(answer.model);
}

// POST /guess for the box's text; one request at a time, and once it is answered, the latest text if it changed.
async function guessUpdate() {
  if (guessing) {
    guessAgain = true;
    return;
  }
  guessing = true;
  const value = guessText.value;
  let state = "ready";
  try {
    if (value.trim() === "") {
      document.getElementById("guesses").replaceChildren();
      document.getElementById("guess-unknown").hidden = true;
    } else {
      const response = await fetch("/guess", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ texts: [value], k: GUESSES }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error);
      showGuesses(body.guesses[0]);
    }
    guessError.hidden = true;
  } catch (err) {
    document.getElementById("guesses").replaceChildren(); // no words shown for a text that was not answered
    guessError.textContent = err.message;
    guessError.hidden = false;
    state = "error";
  }
  guessBox.dataset.text = value; // what the words shown answer
  guessing = false;
  if (guessAgain) {
    guessAgain = false;
    guessUpdate();
  } else {
    guessBox.dataset.state = state;
  }
}

function scheduleGuess() {
  guessBox.dataset.state = "typing";
  clearTimeout(guessTimer);
  guessTimer = setTimeout(guessUpdate, DEBOUNCE_MS);
}

// Ask /healthz which models answer: a classifier (its kind: a bag of words has no view after each word) and a
// language model; show the box of each, and only those.
async function start() {
  let models = null;
  try {
    models = (await (await fetch("/healthz")).json()).models;
  } catch (err) {
    // show the classifier's box, asking per token: if that is wrong, its answer's error says so
  }
  const classifier = models ? models.rnn : {};
  document.getElementById("sentiment").hidden = !classifier;
  guessBox.hidden = !(models && models.lm);
  if (!guessBox.hidden) {
    if (!classifier) guessText.focus();
    guessUpdate();
  }
  if (classifier) {
    perToken = classifier.kind !== "bow";
    document.getElementById("rnn-title").textContent = TITLES[classifier.kind] || "The model";
    document.getElementById("no-order").hidden = perToken;
    await update();
  }
}

text.addEventListener("input", schedule);
for (const button of document.querySelectorAll("button.seed")) {
  button.addEventListener("click", () => {
    text.value = button.dataset.text;
    schedule();
  });
}
guessText.addEventListener("input", scheduleGuess);
for (const button of document.querySelectorAll("button.guess-seed")) {
  button.addEventListener("click", () => {
    guessText.value = button.dataset.text;
    scheduleGuess();
  });
}
start();
