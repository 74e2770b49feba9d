import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("social_crm_reply_tour", {
    steps: () => [
        {
            content: "Open the customer's case from the kanban",
            trigger: ".o_kanban_record:contains(Leaking tent)",
            run: "click",
        },
        {
            content: "Reply from the case",
            trigger: ".o_form_view button[name=action_reply]",
            run: "click",
        },
        {
            content: "Pick the team's canned reply",
            trigger: ".modal .o_field_widget[name=canned_response_id] input",
            run: "edit leak",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(leak)",
            run: "click",
        },
        {
            content: "The placeholders are filled in",
            trigger: ".modal .o_field_widget[name=body] textarea:value(/Alice Brook/)",
        },
        {
            content: "Send it",
            trigger: ".modal-footer button[name=action_send]:contains(Send)",
            run: "click",
        },
        {
            content: "Back on the case, open its replies",
            trigger: "body:not(:has(.modal)) .o_notebook .nav-link:contains(Replies)",
            run: "click",
        },
        {
            content: "The reply is published",
            trigger: ".o_field_widget[name=reply_ids] .o_data_row:contains(Published)",
        },
    ],
});
