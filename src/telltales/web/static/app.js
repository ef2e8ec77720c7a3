// telltales: drag and drop uploads, and linking findings to their boxes. No framework.
"use strict";
const upload = document.getElementById("upload");
if (upload) {
  const input = document.getElementById("file"), list = document.getElementById("results");
  const stop = (e) => { e.preventDefault(); e.stopPropagation(); };
  ["dragenter", "dragover"].forEach((t) => upload.addEventListener(t, (e) => { stop(e); upload.classList.add("over"); }));
  ["dragleave", "drop"].forEach((t) => upload.addEventListener(t, (e) => { stop(e); upload.classList.remove("over"); }));
  const one = async (file) => {
    const li = list.appendChild(document.createElement("li"));
    li.textContent = `${file.name}: analysing…`;
    for (;;) {
      const body = new FormData();
      body.append("file", file);
      const profile = upload.elements.profile ? upload.elements.profile.value : "full";
      const r = await fetch(`/api/inspect?profile=${encodeURIComponent(profile)}`, { method: "POST", body });
      if (r.status === 503) {
        li.textContent = `${file.name}: the server is busy, waiting…`;
        await new Promise((ok) => setTimeout(ok, 1000 * (Number(r.headers.get("Retry-After")) || 5)));
        continue;
      }
      const rep = await r.json().catch(() => ({ error: `unexpected reply (${r.status})` }));
      const id = r.headers.get("X-Telltales-Case");
      li.textContent = "";
      if (id) {
        const a = li.appendChild(document.createElement("a"));
        a.href = `/cases/${id}`; a.textContent = file.name;
        li.append(` ${rep.verdict}, p_generated ${Number(rep.p_generated).toFixed(2)}`);
      } else {
        li.textContent = `${file.name}: ${rep.error || "failed"}`;
        li.className = "error";
      }
      return id;
    }
  };
  const send = async (files) => {
    const ids = [];
    for (const f of files) ids.push(await one(f));
    if (files.length === 1 && ids[0]) location.href = `/cases/${ids[0]}`;
  };
  upload.addEventListener("drop", (e) => send([...e.dataTransfer.files]));
  upload.addEventListener("submit", (e) => { stop(e); send([...input.files]); });
  input.addEventListener("change", () => send([...input.files]));
}

const stage = document.getElementById("stage");
const same = (ref) => document.querySelectorAll(`[data-ref="${CSS.escape(ref)}"]`);
document.querySelectorAll(".box[data-ref], .legend [data-ref], .finding[data-ref]").forEach((el) => {
  const ref = el.dataset.ref;
  el.addEventListener("mouseenter", () => same(ref).forEach((x) => x.classList.add("hl")));
  el.addEventListener("mouseleave", () => same(ref).forEach((x) => x.classList.remove("hl")));
  el.addEventListener("click", () => {
    const was = el.classList.contains("pinned");
    document.querySelectorAll(".pinned").forEach((x) => x.classList.remove("pinned"));
    if (!was) same(ref).forEach((x) => x.classList.add("pinned"));
    if (stage) stage.classList.toggle("focus", !was && stage.querySelector(".pinned") !== null);
  });
});
