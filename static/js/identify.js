// Progressive enhancement of the identify form: preview, drag and drop, camera button,
// a size check before uploading, and a busy state. The form works the same without it.
(function () {
  "use strict";
  var form = document.getElementById("identify-form");
  if (!form) return;
  var input = form.querySelector('input[name="image"]');
  var camera = document.getElementById("camera-input");
  var cameraButton = document.getElementById("camera-button");
  var dropzone = document.getElementById("dropzone");
  var preview = document.getElementById("preview");
  var clientError = document.getElementById("client-error");
  var submit = document.getElementById("identify-submit");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
  var previewUrl = null;

  form.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  function showError(message) {
    clientError.textContent = message;
    clientError.hidden = !message;
  }

  function showPreview(file) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    preview.hidden = true;
    if (!file) return;
    if (!/^image\//.test(file.type)) {
      showError("That file does not look like a photo. Choose a JPEG, PNG, WebP or GIF image.");
      return;
    }
    if (maxBytes && file.size > maxBytes) {
      showError("That photo is " + (file.size / 1048576).toFixed(1) + " MB; the limit is " +
        Math.floor(maxBytes / 1048576) + " MB. Choose a smaller photo.");
      return;
    }
    showError("");
    previewUrl = URL.createObjectURL(file);
    preview.src = previewUrl;
    preview.hidden = false;
  }

  function useFile(file) {
    // Put a dropped or camera file into the real form field, so a plain submit sends it.
    var transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    input.dispatchEvent(new Event("change"));  // the preview and the file's name
  }

  input.addEventListener("change", function () { showPreview(input.files[0]); });
  cameraButton.addEventListener("click", function () { camera.click(); });
  camera.addEventListener("change", function () { if (camera.files[0]) useFile(camera.files[0]); });

  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) {
      event.preventDefault();
      dropzone.classList.remove("dragging");
    });
  });
  dropzone.addEventListener("drop", function (event) {
    var file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) useFile(file);
  });

  form.addEventListener("submit", function (event) {
    var file = input.files[0];
    if (file && maxBytes && file.size > maxBytes) {
      event.preventDefault();
      showPreview(file);
      return;
    }
    submit.disabled = true;
    submit.textContent = "Looking at your photo…";
    form.setAttribute("aria-busy", "true");
  });
  // Coming back with the browser's back button must not leave the button stuck.
  window.addEventListener("pageshow", function () {
    submit.disabled = input.disabled;
    submit.textContent = "Identify";
    form.removeAttribute("aria-busy");
  });
})();
