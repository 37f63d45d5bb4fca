// Chargeline factory pages: refuse a CSV file over the upload limit before it is sent.
//
// A file input with data-max-bytes="<n>" gets a validity message when the chosen file is larger,
// so the browser keeps the form instead of posting a body the server answers with 413. Without
// this script the server's limit still holds.
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-max-bytes")) {
      return;
    }
    var max = Number(input.getAttribute("data-max-bytes"));
    var file = input.files && input.files[0];
    var message = "";
    if (file && file.size > max) {
      message = "This file has " + file.size + " bytes; at most " + max +
        " can be uploaded at once: split it into smaller files.";
    }
    input.setCustomValidity(message);
    if (message) {
      input.reportValidity();
    }
  });
})();
