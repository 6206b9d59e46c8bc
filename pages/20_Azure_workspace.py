"""Page 20: connect to (or create) an Azure Machine Learning workspace with SDK v2."""

import streamlit as st

from cvlib.azure.connect import KUBERNETES_PROVIDERS, REQUIRED_PROVIDERS, register_commands
from ui.azure import (
    action_result,
    action_running,
    client,
    confirm_delete,
    connection_badge,
    remember_client,
    run_with_log,
    show_yaml,
    start_action,
    workspace_form,
)
from ui.common import guarded, next_step, page_header

PAGE = "20"
#: Background jobs: creating a workspace (minutes), and the compute actions (one at a time).
CREATE_JOB, COMPUTE_JOB = f"{PAGE}:create", f"{PAGE}:compute"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SIGN_IN_LABELS = {
    "default": "az login / service principal / managed identity (no browser)",
    "device-code": "Device code: enter a code in any browser (remote or headless server)",
    "browser": "Browser window on the machine that runs the studio",
}

page_header("20 Azure workspace", "Connecting to Azure Machine Learning (SDK v2)", "☁️")
connection_badge()

st.markdown("""
**What is a workspace?** The place in Azure where everything about your models lives: the
registered models, the environments they run in, the compute that trains them, the endpoints
that serve them, and every job's logs and metrics. It belongs to a *resource group* (a folder
for Azure resources) in a *subscription* (what Azure bills), in a *tenant* (your
organisation's directory of identities).

**How the studio signs in.** Through `azure-identity`. The default, `DefaultAzureCredential`,
uses your `az login` session, a service principal in the environment variables
`AZURE_CLIENT_ID` / `AZURE_TENANT_ID` / `AZURE_CLIENT_SECRET`, or a managed identity, and never
opens a browser. On a remote server choose the *device code*: the page shows a code to enter
on any device. Tokens stay in memory: nothing secret is saved, logged or shown here. The
three names below are not secrets; after a successful connect they are saved as
`config.json` in the studio home, so the next visit starts filled in.
""")


def listening_note() -> None:
    """Say who can use this app, and therefore act in Azure as you, from where it listens."""
    address = st.get_option("server.address") or "every interface"
    if address in LOOPBACK:
        st.caption(f"This app listens on {address} only: only this machine can use it, and "
                   "so only you can act in Azure through it.")
    else:
        st.warning(f"This app listens on {address}: anyone who can reach its port can press "
                   "Connect here and then create, deploy and delete in Azure with the "
                   "identity you sign in with. Serve it on a network only behind an "
                   "authenticating HTTPS proxy, or restart it with scripts/studio.sh "
                   "(loopback only).")


listening_note()
ref = guarded(workspace_form)(PAGE)
cols = st.columns([1, 1, 2])
location = cols[0].text_input("Region for a new workspace", value="westeurope",
                              key=f"{PAGE}:loc")
tenant = cols[1].text_input("Tenant ID (optional)", key=f"{PAGE}:tenant",
                            help="Your organisation's directory ID; leave empty for the "
                                 "default one (az login --tenant sets it for the CLI)")
mode = cols[2].radio("Sign in with", list(SIGN_IN_LABELS), format_func=SIGN_IN_LABELS.get,
                     key=f"{PAGE}:signin")


def connect(log):
    """Sign in, prove access to the workspace, remember it, save its config.json."""
    from cvlib.azure.connect import check_access, make_credential, ml_client, save_config

    credential = make_credential(mode, tenant, prompt=log)
    ml = ml_client(ref, credential)
    details = check_access(ml)
    remember_client(ml, details)
    log(f"Saved {save_config(ref)} (names only, no secret)")
    return details


def create(log):
    """Register providers if needed, create the resource group and the workspace.

    Runs as a background job: the client it returns is kept by :func:`keep_created`, in
    the page's own session.
    """
    from cvlib.azure.connect import (
        REQUIRED_PROVIDERS,
        check_access,
        create_workspace,
        make_credential,
        provider_states,
        register_providers,
        save_config,
    )

    credential = make_credential(mode, tenant, prompt=log)
    states = provider_states(credential, ref.subscription_id)
    missing = tuple(p for p in REQUIRED_PROVIDERS if states.get(p) != "Registered")
    if missing:
        log(f"Registering resource providers: {', '.join(missing)}")
        register_providers(credential, ref.subscription_id, missing)
    ml = create_workspace(credential, ref, location, log)
    details = check_access(ml)
    save_config(ref)
    return ml, details


def keep_created(result) -> None:
    """Connect this session to the workspace just created (once), and say so above."""
    remember_client(*result)
    st.rerun()


if ref is not None:
    from cvlib.azure.specs import workspace_spec

    guarded(show_yaml)("Workspace the studio would create",
                       workspace_spec(ref.workspace_name, ref.resource_group, location))
    connect_col, create_col = st.columns(2)
    if connect_col.button("Connect", key=f"{PAGE}:connect", type="primary"):
        details = run_with_log("Checking access", connect)
        if details:
            st.success(f"Connected to {details['name']} in {details['location']}")
    if create_col.button("Create resource group and workspace", key=f"{PAGE}:create",
                         disabled=action_running(CREATE_JOB)):
        start_action(CREATE_JOB, "Creating the workspace (a few minutes)", create,
                     context=(ref, location))
    created = action_result(CREATE_JOB, context=(ref, location), once=keep_created)
    if created:
        st.success(f"Created and connected to {created[1]['name']}")
else:
    st.info("Enter the workspace's subscription, resource group and name, or upload the "
            "config.json from the portal's workspace overview page.")

st.subheader("Resource providers")
st.markdown("""
A new subscription has not *registered* every Azure service it can use; creating a workspace
then fails with `MissingSubscriptionRegistration`. Registering is free and takes a minute or
two. The studio checks and registers them when it creates a workspace; in a terminal:
""")
st.code(register_commands(REQUIRED_PROVIDERS + KUBERNETES_PROVIDERS), language="bash")


def attach_section() -> None:
    """Attach an existing AKS cluster as a Kubernetes compute: the commands, then the call."""
    from cvlib.azure.operations import wait_for
    from cvlib.azure.specs import aks_commands, attached_kubernetes

    st.subheader("Attach an existing AKS cluster (for Kubernetes endpoints)")
    st.markdown("""
A Kubernetes online endpoint runs on your own AKS cluster. The cluster needs the **Azure ML
extension** (which also creates the `defaultinstancetype` that deployments name), then it is
*attached* to the workspace as a Kubernetes compute. These commands do both:
""")
    cols = st.columns(3)
    aks = cols[0].text_input("AKS cluster name", "aks-cluster", key=f"{PAGE}:aks")
    aks_rg = cols[1].text_input("Its resource group", ref.resource_group if ref else "rg",
                                key=f"{PAGE}:aksrg")
    compute = cols[2].text_input("Compute name in the workspace", "aks-cluster",
                                 key=f"{PAGE}:akscompute")
    st.code(aks_commands(aks, aks_rg, ref.workspace_name if ref else "<workspace>", compute),
            language="bash")
    ml = client()
    if ml is None:
        return
    resource_id = st.text_input("AKS resource ID (az aks show --query id -o tsv)",
                                key=f"{PAGE}:aksid")
    if resource_id and st.button("Attach (after the extension is installed)",
                                 key=f"{PAGE}:attach", disabled=action_running(COMPUTE_JOB)):
        def attach(log) -> str:
            wait_for(ml.compute.begin_attach(attached_kubernetes(compute, resource_id)),
                     f"Attaching {compute}", log)
            return f"Attached {compute}: page 21 can deploy to it now"

        start_action(COMPUTE_JOB, f"Attaching {compute}", attach)


def cleanup_section() -> None:
    """Clusters and attached clusters of the workspace, each deletable after a confirmation."""
    ml = client()
    if ml is None:
        return
    from cvlib.azure.deploy import delete_compute

    st.subheader("Clean up compute")
    st.caption("A cluster at 0 nodes costs nothing; deleting it tidies the workspace. An "
               "attached AKS cluster is detached (the cluster itself stays, and still bills).")
    busy = action_running(COMPUTE_JOB)
    for compute in ml.compute.list():
        st.markdown(f"**{compute.name}** · {compute.type} · "
                    f"{getattr(compute, 'size', '') or ''}")
        if confirm_delete(PAGE, "compute", compute.name, busy):
            def remove(log, name=compute.name) -> str:
                return f"{name} {delete_compute(ml, name, log)}"

            start_action(COMPUTE_JOB, f"Deleting {compute.name}", remove)


def compute_actions() -> None:
    """The running or last attach or delete, with its progress, Stop and outcome."""
    done = action_result(COMPUTE_JOB)
    if done:
        st.success(done)


guarded(attach_section)()
guarded(cleanup_section)()
compute_actions()

ideas = ["Sign in with `az login` in a terminal, then press Connect: no browser window needed."]
if ref is not None:
    ideas.append("Open the YAML above: it is what `az ml workspace create --file` would read.")
else:
    ideas.append("Upload the portal's config.json: the three names fill themselves in.")
next_step("pages/20_Azure_workspace.py", ideas)
