// The page's script: imports a module written by `grove export` (model.js beside this file), builds
// one input per feature from the module's meta, and predicts the form's values as they change. An
// empty field is a missing value (null), as the model's library treats NaN. Nothing leaves the page.
import { meta, predict, ready } from './model.js';

const form = document.getElementById('features');
const output = document.getElementById('prediction');
const error = document.getElementById('error');

document.getElementById('about').textContent =
  `${meta.library} ${meta.objective} (${meta.task}), ${meta.features.length} features; ` +
  `model file sha256 ${meta.sha256.slice(0, 12)}…`;

for (const name of meta.features) {
  const label = document.createElement('label');
  label.textContent = name;
  const input = document.createElement('input');
  input.name = name;
  input.type = 'number';
  input.step = 'any';
  input.placeholder = 'missing';
  label.append(input);
  form.append(label);
}
const button = document.createElement('button');
button.type = 'submit';
button.textContent = 'Predict';
form.append(button);

/** The form's values in feature order; an empty field is a missing value. */
function row() {
  return meta.features.map((name) => {
    const v = form.elements.namedItem(name).value.trim();
    return v === '' ? null : Number(v);
  });
}

function show() {
  try {
    const [p] = predict([row()]);
    const values = Array.isArray(p) ? p : [p];
    output.dataset.values = JSON.stringify(values);
    // Binary classifiers give P(class 1); multiclass ones a probability per class.
    output.textContent = values
      .map((v, i) => `${meta.outputs[i]}: ${Number.isFinite(v) ? v.toFixed(6) : String(v)}`)
      .join('   ');
    error.textContent = '';
  } catch (err) {
    error.textContent = `${err.message} (${err.code ?? 'error'})`;
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  show();
});
form.addEventListener('input', show);
show();
ready.then((kernel) => {
  document.body.dataset.kernel = kernel;
  document.getElementById('about').textContent += `; kernel: ${kernel}`;
});
