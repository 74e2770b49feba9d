import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("social_crm_partner_social_tab", {
    steps: () => [
        {
            content: "The contact shows its social conversations at a glance",
            trigger: "button[name=action_view_social_conversations] .o_stat_text:contains(Conversations)",
        },
        {
            content: "Open the Social tab",
            trigger: ".o_notebook .nav-link:contains(Social)",
            run: "click",
        },
        {
            content: "The customer's account is listed",
            trigger: ".o_field_widget[name=social_identity_ids] td:contains(jo@mastodon.social)",
        },
        {
            content: "The timeline shows what the customer wrote",
            trigger: ".o_field_widget[name=social_timeline_ids] .o_social_post:not(:has(.o_social_post_outbound)):contains(Does the Ridge 2 fit two?)",
        },
        {
            content: "and what we answered, quoting the question",
            trigger:
                ".o_field_widget[name=social_timeline_ids] .o_social_post_outbound:contains(Outbound):contains(Yes, with room for bags) .o_social_post_quote:contains(jo@mastodon.social)",
        },
        {
            content: "Follow our answer to its conversation",
            trigger: ".o_field_widget[name=social_timeline_ids] .o_social_post_outbound:contains(Yes, with room for bags) a.o_social_post_conversation",
            run: "click",
        },
        {
            content: "The conversation reads as a thread, both sides in order",
            trigger:
                ".o_form_view .o_field_widget[name=post_ids] .o_social_post:contains(Does the Ridge 2) ~ .o_social_post:has(.o_social_post_outbound):contains(Yes, with room for bags) ~ .o_social_post:contains(Great, ordering one)",
        },
        {
            content: "Back to the contact",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Jo Camper)",
            run: "click",
        },
        {
            content: "Open the conversations from the smart button",
            trigger: "button[name=action_view_social_conversations]",
            run: "click",
        },
        {
            content: "The handled conversation is there too: the button opens what it counts",
            trigger: ".o_kanban_record:contains(Does the Ridge 2), .o_data_row:contains(Does the Ridge 2)",
        },
    ],
});
