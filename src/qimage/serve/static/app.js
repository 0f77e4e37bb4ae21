// qimage serve: the page. Plain JS and SVG, no libraries: it works offline.
"use strict";

const SHOTS = [null, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");
const strokes = [];
let model = null;
let busy = false;
let again = false;
window.lastPixels = null;  // what the page sent last: the browser test posts it to the API

function el(name, attrs, text) {
  const node = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function clearSvg(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }

// ---- drawing: pointer events cover mouse, pen and touch -----------------------------------
function paint() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 18;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const stroke of strokes) {
    ctx.beginPath();
    stroke.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (stroke.length === 1) ctx.lineTo(stroke[0][0] + 0.1, stroke[0][1]);
    ctx.stroke();
  }
}

function point(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
          (event.clientY - box.top) * canvas.height / box.height];
}

let active = null;  // the pointer drawing the current stroke
canvas.addEventListener("pointerdown", (event) => {
  if (active !== null) return;
  active = event.pointerId;
  try { canvas.setPointerCapture(event.pointerId); } catch (err) { /* synthetic pointer */ }
  strokes.push([point(event)]);
  paint();
});
canvas.addEventListener("pointermove", (event) => {
  if (event.pointerId !== active) return;
  strokes[strokes.length - 1].push(point(event));
  paint();
});
for (const type of ["pointerup", "pointercancel"]) {
  canvas.addEventListener(type, (event) => {
    if (event.pointerId !== active) return;
    active = null;
    explain();
  });
}
$("undo").addEventListener("click", () => { strokes.pop(); paint(); explain(); });
$("clear").addEventListener("click", () => { strokes.length = 0; paint(); explain(); });
$("shots").addEventListener("input", () => {
  $("shots-out").textContent = SHOTS[$("shots").value] || "exact";
});
$("noise").addEventListener("input", () => { $("noise-out").textContent = $("noise").value; });
for (const id of ["shots", "noise", "label"]) $(id).addEventListener("change", () => explain());

// The canvas as grey levels, 2x2 averaged to 140x140 rows (the server prepares the rest).
function pixels() {
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  const rows = [];
  for (let y = 0; y < canvas.height; y += 2) {
    const row = [];
    for (let x = 0; x < canvas.width; x += 2) {
      let sum = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        sum += data[4 * ((y + dy) * canvas.width + x + dx)];
      }
      row.push(Math.round(sum / 4));
    }
    rows.push(row);
  }
  return rows;
}

// ---- talking to the server ------------------------------------------------------------------
async function explain() {
  // While an answer is in flight, a change (an undo to an empty canvas included) waits for
  // it and asks again, so that the stale answer cannot arrive last and be shown.
  if (busy) { again = true; return; }
  if (!strokes.length) { $("error").textContent = "draw a digit"; return; }
  busy = true;
  const body = { pixels: pixels(), noise: Number($("noise").value), seed: 0 };
  const shots = SHOTS[$("shots").value];
  if (shots) body.shots = shots;
  if ($("label").value !== "") body.label = Number($("label").value);
  window.lastPixels = body.pixels;
  let shown = true;  // data-renders counts answers shown (tests wait on it), not requests
  try {
    const answer = await fetch("/api/explain", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await answer.json();
    if (!answer.ok) throw new Error(data.detail || answer.statusText);
    // The drawing changed meanwhile: the next answer replaces this one.
    if (again) { shown = false; return; }
    $("error").textContent = "";
    render(data);
  } catch (err) {
    $("error").textContent = String(err.message || err);
  } finally {
    busy = false;
    if (shown) document.body.dataset.renders = Number(document.body.dataset.renders) + 1;
    if (again) { again = false; explain(); }
  }
}

// ---- panels ---------------------------------------------------------------------------------
function render(data) {
  renderPrepared(data.prepared);
  $("notes").textContent = data.notes.length ? "Note: " + data.notes.join("; ") : "";
  renderBars(data.classes);
  if (data.encoding) renderEncoding(data.encoding);
  if (data.circuit) renderCircuit(data.circuit);
  if (data.readout) renderReadout(data.readout, data.classes.names.length);
  if (data.gradient) renderGradient(data.gradient, data.classes.names);
}

function renderPrepared(image) {
  const svg = $("prepared");
  clearSvg(svg);
  svg.setAttribute("viewBox", `0 0 ${image[0].length} ${image.length}`);
  image.forEach((row, y) => row.forEach((v, x) => {
    const g = Math.round(255 * (1 - v));
    svg.appendChild(el("rect", { x, y, width: 1.02, height: 1.02, fill: `rgb(${g},${g},${g})` }));
  }));
}

function renderEncoding(encoding) {
  const svg = $("encoding");
  clearSvg(svg);
  const values = encoding.values;
  const peak = Math.max(1e-9, ...values.map(Math.abs));
  const w = 320 / values.length;
  svg.appendChild(el("line", { x1: 0, x2: 320, y1: 150, y2: 150, stroke: "#999" }));
  values.forEach((v, i) => {
    const h = 140 * Math.abs(v) / peak;
    svg.appendChild(el("rect", { x: i * w, y: 150 - h, width: Math.max(w - 1, 1), height: h,
      fill: "#6a4c93", class: "amplitude", "data-value": v }));
  });
  $("encoding-caption").textContent = encoding.kind === "amplitude"
    ? `the ${values.length} amplitudes of the encoded state |x⟩ (unit norm)`
    : `the ${values.length} encoded angles`;
}

function renderCircuit(circuit) {
  const svg = $("circuit");
  clearSvg(svg);
  const n = circuit.n_qubits;
  const dy = 34;
  const y = (q) => 18 + q * dy;
  let x = 34;
  const width = (col) => Math.max(26, ...col.flatMap((op) =>
    Object.values(op.marks).map((m) => 6.6 * m.length + 12)));
  for (let q = 0; q < n; q++) svg.appendChild(el("text", { x: 2, y: y(q) + 4, "font-size": 11 }, `q${q}`));
  const parts = [];
  if (circuit.state_prep) {
    parts.push(el("rect", { x, y: y(0) - 12, width: 44, height: y(n - 1) - y(0) + 24,
      fill: "#f7d9a8", stroke: "#b5762b", rx: 4 }));
    parts.push(el("text", { x: x + 22, y: (y(0) + y(n - 1)) / 2 + 4, "text-anchor": "middle",
      "font-size": 12 }, "|x⟩"));
    x += 54;
  }
  for (const col of circuit.columns) {
    const w = width(col);
    const cx = x + w / 2;
    for (const op of col) drawOp(parts, op, cx, y);
    x += w + 6;
  }
  for (let q = 0; q < n; q++) svg.appendChild(el("line", { x1: 28, x2: x, y1: y(q), y2: y(q), stroke: "#333" }));
  parts.forEach((p) => svg.appendChild(p));
  svg.setAttribute("width", x + 10);
  svg.setAttribute("height", y(n - 1) + 20);
}

function drawOp(parts, op, cx, y) {
  const wires = op.wires;
  if (wires.length > 1) {
    parts.push(el("line", { x1: cx, x2: cx, y1: y(Math.min(...wires)), y2: y(Math.max(...wires)),
      stroke: "#333" }));
  }
  for (const [wire, mark] of Object.entries(op.marks)) {
    const cy = y(Number(wire));
    if (mark === "●") parts.push(el("circle", { cx, cy, r: 4, fill: "#333" }));
    else if (mark === "⊕") {
      parts.push(el("circle", { cx, cy, r: 8, fill: "#fff", stroke: "#333" }));
      parts.push(el("path", { d: `M${cx - 8} ${cy}H${cx + 8}M${cx} ${cy - 8}V${cy + 8}`, stroke: "#333" }));
    } else if (mark === "×") {
      parts.push(el("path", { d: `M${cx - 5} ${cy - 5}L${cx + 5} ${cy + 5}M${cx - 5} ${cy + 5}L${cx + 5} ${cy - 5}`,
        stroke: "#333" }));
    } else {
      const w = 6.6 * mark.length + 8;
      parts.push(el("rect", { x: cx - w / 2, y: cy - 10, width: w, height: 20, rx: 3,
        fill: op.input ? "#f7d9a8" : "#e8e0f5", stroke: op.input ? "#b5762b" : "#6a4c93" }));
      parts.push(el("text", { x: cx, y: cy + 4, "text-anchor": "middle", "font-size": 11 }, mark));
    }
  }
}

function renderReadout(readout, nClasses) {
  const svg = $("readout");
  clearSvg(svg);
  const z = readout.z.mean;
  const h = Math.min(22, 140 / z.length);
  svg.setAttribute("height", h * z.length + 10);
  svg.appendChild(el("line", { x1: 190, x2: 190, y1: 0, y2: h * z.length, stroke: "#999" }));
  z.forEach((v, q) => {
    const top = q * h + 2;
    const len = 120 * Math.abs(v);
    svg.appendChild(el("text", { x: 0, y: top + h * 0.7, "font-size": 11 }, `q${q}  ${v.toFixed(3)}`));
    svg.appendChild(el("rect", { x: v < 0 ? 190 - len : 190, y: top, width: len, height: h - 4,
      fill: "#6a4c93", class: "wire", "data-value": v, "data-wire": q }));
  });
  $("mapping").innerHTML = mappingHtml(readout, nClasses);
}

function mappingHtml(readout, nClasses) {
  const m = readout.measured.mean;
  const wires = readout.wires.map((w) => `q${w}`).join(",");
  let rule;
  let scoreOf;
  if (readout.kind === "probs") {
    const grouped = Array(nClasses).fill(0);
    m.forEach((p, j) => { grouped[j % nClasses] += p; });
    rule = `Measuring ${wires} gives ${m.length} outcomes; outcome j votes for class j mod ${nClasses}: ` +
      `p<sub>c</sub> = Σ<sub>j ≡ c</sub> P(j). Score: logit<sub>c</sub> = s<sub>c</sub>·log p<sub>c</sub> + b<sub>c</sub>, then softmax.`;
    scoreOf = (c) => grouped[c];
  } else {
    rule = `Class c reads ⟨Z⟩ of wire ${wires.split(",")[0]}…: logit<sub>c</sub> = s<sub>c</sub>·⟨Z<sub>c</sub>⟩ + b<sub>c</sub>, then softmax.`;
    scoreOf = (c) => m[c];
  }
  const head = `<tr><th>class</th><th>${readout.kind === "probs" ? "p<sub>c</sub>" : "⟨Z<sub>c</sub>⟩"}</th>` +
    "<th>scale s</th><th>bias b</th><th>logit</th></tr>";
  const rows = readout.scale.map((s, c) =>
    `<tr><td>${c}</td><td>${scoreOf(c).toFixed(4)}</td><td>${s.toFixed(3)}</td>` +
    `<td>${readout.bias[c].toFixed(3)}</td><td>${readout.logits.mean[c].toFixed(3)}</td></tr>`);
  return `<p>${rule}</p><table>${head}${rows.join("")}</table>`;
}

function renderBars(classes) {
  const svg = $("bars");
  clearSvg(svg);
  const n = classes.mean.length;
  const w = 320 / n;
  classes.mean.forEach((p, c) => {
    const h = 140 * p;
    const x = 10 + c * w;
    const best = c === classes.top;
    svg.appendChild(el("rect", { x: x + 3, y: 150 - h, width: w - 6, height: h, class: "bar",
      fill: best ? "#b5762b" : "#6a4c93", "data-prob": p, "data-class": classes.names[c] }));
    const s = classes.std[c];
    if (s > 0) {
      const cx = x + w / 2;
      svg.appendChild(el("path", { d: `M${cx} ${150 - 140 * (p + s)}V${150 - 140 * Math.max(p - s, 0)}` +
        `M${cx - 4} ${150 - 140 * (p + s)}H${cx + 4}`, stroke: "#222", class: "errorbar" }));
    }
    svg.appendChild(el("text", { x: x + w / 2, y: 166, "text-anchor": "middle", "font-size": 12 },
      classes.names[c]));
  });
  const p = classes.mean[classes.top];
  $("top").textContent = `The circuit says ${classes.names[classes.top]} (p = ${p.toFixed(3)})`;
  $("top").dataset.top = classes.names[classes.top];
}

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

function renderGradient(gradient, names) {
  const body = $("gradient").querySelector("tbody");
  body.innerHTML = "";
  for (const layer of gradient.layers) {
    const diff = Math.max(...layer.shift.map((g, i) => Math.abs(g - layer.autograd[i])));
    const tr = document.createElement("tr");
    for (const text of [layer.name, norm(layer.shift).toExponential(4),
      norm(layer.autograd).toExponential(4), diff.toExponential(2)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  $("grad-summary").innerHTML = `Loss −log p(${names[gradient.label]}) = ${gradient.loss.toFixed(4)}. ` +
    "Parameter shift runs each gate twice more, shifted by ±π/2, as hardware would; autograd " +
    "differentiates the simulation. Largest difference over all weights: " +
    `<span id="grad-diff" data-value="${gradient.max_diff}">${gradient.max_diff.toExponential(2)}</span>`;
}

// ---- start ------------------------------------------------------------------------------------
async function start() {
  paint();
  model = await (await fetch("/api/model")).json();
  const acc = model.test_accuracy ? `, test accuracy ${(100 * model.test_accuracy).toFixed(1)}%` : "";
  $("model-line").textContent = `Model: ${model.model}${acc}; images ${model.image_shape.join("x")}.`;
  model.class_names.forEach((name, c) => $("label").appendChild(new Option(name, c)));
  if (!model.qnn) {  // circuit, readout and gradient panels are for the quantum-only QNN
    for (const id of ["circuit-panel", "readout-panel", "gradient-panel"]) $(id).hidden = true;
    $("encoding").parentNode.hidden = true;
  }
  document.body.dataset.ready = "1";
}
start();
