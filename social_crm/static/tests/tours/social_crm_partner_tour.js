import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("social_crm_partner_social_tab", {
    steps: () => [
        {
            content: "The partner shows its social cases and conversations at a glance",
            trigger: ".o_stat_text:contains(Conversations)",
        },
        {
            content: "Open the Social tab",
            trigger: ".o_notebook .nav-link:contains(Social)",
            run: "click",
        },
        {
            content: "The identity pulled from the blog is listed",
            trigger: ".o_field_widget[name=social_identity_ids] td:contains(Tour Writer)",
        },
        {
            content: "So is the latest message",
            trigger: ".o_field_widget[name=social_message_ids] td:contains(Pegs bent in the frost)",
        },
        {
            content: "Open the identity's conversations from the smart button",
            trigger: "button[name=action_view_social_conversations]",
            run: "click",
        },
        {
            content: "The blog conversation is there",
            trigger: ".o_kanban_record:contains(Pegs bent in the frost), .o_data_row:contains(Pegs bent in the frost)",
        },
    ],
});
