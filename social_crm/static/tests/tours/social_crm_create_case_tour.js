import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("social_crm_create_case", {
    steps: () => [
        {
            content: "The conversation offers to open a case",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_create_case]",
            run: "click",
        },
        {
            content: "The case opens with the customer",
            trigger: ".o_form_view .o_field_widget[name=partner_id] input:value(Tour Customer)",
        },
        {
            content: "The case's thread shows the post; its description tab holds the text",
            trigger: ".o_form_view .o_notebook .nav-link:contains(Description)",
            run: "click",
        },
        {
            content: "and the post's text as description",
            trigger: ".o_form_view .o_field_widget[name=description]:contains(My stove leaks at the valve)",
        },
        {
            content: "and the source's team",
            trigger: ".o_form_view .o_field_widget[name=team_id] input:value(Tour Support)",
        },
        {
            content: "Its conversation is linked",
            trigger: ".o_form_view .o_stat_text:contains(Conversations)",
        },
    ],
});

registry.category("web_tour.tours").add("social_crm_case_card", {
    steps: () => [
        {
            content: "The case's card shows its tags",
            trigger: ".o_kanban_record:contains(Tour Customer) .o_tag:contains(Stoves)",
        },
        {
            content: "and its next SLA deadline",
            trigger: ".o_kanban_record:contains(Tour Customer) .fa-clock-o",
        },
    ],
});
