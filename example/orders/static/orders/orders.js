// The demo shop's order page: the status follows `order.status` notifications live.
//
// The notification bell (parley/bell.js, on every signed-in page) keeps the user's socket and
// announces each notification it receives — live, or replayed after a reconnect — as a
// `parley:notification` event; this page only listens. Text is set with textContent, never HTML.

const config = JSON.parse(document.getElementById("order-config").textContent);
const statusElement = document.getElementById("order-status");
const steps = document.getElementById("order-steps");

function showStatus(status) {
  statusElement.textContent = config.statuses[status] || status;
  statusElement.className = `order-status status-${status}`;
  statusElement.dataset.status = status;
  let reached = status !== "cancelled";
  for (const step of steps.children) {
    step.classList.toggle("current", step.dataset.status === status);
    step.classList.toggle("done", reached);
    if (step.dataset.status === status) reached = false;
  }
}

document.addEventListener("parley:notification", (event) => {
  const notification = event.detail;
  if (notification.kind !== "order.status" || !notification.data) return;
  if (notification.data.order_id !== config.orderId) return;
  showStatus(notification.data.status);
});

showStatus(config.status);
