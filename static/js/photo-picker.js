// The chosen file's name beside each photo button (templates/partials/photo_picker.html).
// Whoever puts a file into the input by script (a drop, the camera, a carried photo)
// dispatches "change", so the name follows every way a photo arrives.
(function () {
  "use strict";
  document.querySelectorAll(".photo-picker").forEach(function (picker) {
    var input = picker.querySelector("input[type=file]");
    var name = picker.querySelector(".photo-name .js-only");
    picker.querySelectorAll(".no-js").forEach(function (el) { el.remove(); });
    name.hidden = false;
    function show() {
      var file = input.files && input.files[0];
      name.textContent = file ? "Chosen: " + file.name : "No photo chosen yet";
      picker.classList.toggle("has-photo", !!file);
    }
    input.addEventListener("change", show);
    show();
  });
})();
