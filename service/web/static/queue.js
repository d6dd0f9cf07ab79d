// The queue refreshes its rows every 30 s (htmx). While cases are chosen for a bulk action, the
// refresh waits: it would otherwise replace the rows and lose the ticks. Without JavaScript the
// page does not refresh itself at all, so nothing is needed there.
document.addEventListener("htmx:confirm", function (event) {
  var rows = document.getElementById("rows");
  if (rows && event.target === rows && rows.querySelector('input[name="case"]:checked')) {
    event.preventDefault();
  }
});
