"""Page 20: connect to (or create) an Azure Machine Learning workspace with SDK v2."""

import streamlit as st

from ui.azure import connection_badge, remember_client, run_with_log, show_yaml, workspace_form
from ui.common import guarded, next_step, page_header

PAGE = "20"

page_header("20 Azure workspace", "Connecting to Azure Machine Learning (SDK v2)", "☁️")
connection_badge()

st.markdown("""
**What is a workspace?** The place in Azure where everything about your models lives: the
registered models, the environments they run in, the compute that trains them, the endpoints
that serve them, and every job's logs and metrics. It belongs to a *resource group* (a folder
for Azure resources) in a *subscription* (what Azure bills).

**How the studio signs in.** Through `azure-identity`'s `DefaultAzureCredential`, which tries,
in order, your `az login` session, a service principal in the environment variables
`AZURE_CLIENT_ID` / `AZURE_TENANT_ID` / `AZURE_CLIENT_SECRET`, and a managed identity; if none
works, a browser window asks you to sign in. Tokens stay in memory: nothing secret is saved,
logged or shown here. The three names below are not secrets.
""")

ref = guarded(workspace_form)(PAGE)
location = st.text_input("Region for a new workspace", value="westeurope", key=f"{PAGE}:loc")
interactive = st.checkbox("Allow a browser sign-in if no other credential works", value=True,
                          key=f"{PAGE}:browser")

if ref is not None:
    from cvlib.azure.specs import workspace_spec

    guarded(show_yaml)("Workspace the studio would create",
                       workspace_spec(ref.workspace_name, ref.resource_group, location))
    connect_col, create_col = st.columns(2)
    if connect_col.button("Connect", key=f"{PAGE}:connect", type="primary"):
        from cvlib.azure.connect import check_access, make_credential, ml_client

        client = ml_client(ref, make_credential(interactive))
        details = run_with_log("Checking access", lambda log: check_access(client))
        if details:
            remember_client(client, details)
            st.success(f"Connected to {details['name']} in {details['location']}")
    if create_col.button("Create resource group and workspace", key=f"{PAGE}:create"):
        from cvlib.azure.connect import check_access, create_workspace, make_credential

        credential = make_credential(interactive)
        client = run_with_log("Creating the workspace (a few minutes)",
                              lambda log: create_workspace(credential, ref, location, log))
        if client is not None:
            remember_client(client, check_access(client))
else:
    st.info("Enter the workspace's subscription, resource group and name, or upload the "
            "config.json from the portal's workspace overview page.")

next_step("pages/20_Azure_workspace.py", [
    "Sign in with `az login` in a terminal, then press Connect: no browser window needed.",
    "Open the YAML above: it is what `az ml workspace create --file` would read.",
])
