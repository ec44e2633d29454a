// A little help on top of the plain form: drop a workbook on the box, or choose one, and it is sent.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("upload");
  if (!form) return;
  var input = document.getElementById("workbook");
  var drop = form.querySelector(".drop");
  input.addEventListener("change", function () { if (input.files.length) form.submit(); });
  ["dragenter", "dragover"].forEach(function (n) {
    drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (n) {
    drop.addEventListener(n, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; form.submit(); }
  });
});
