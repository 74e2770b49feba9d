import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("social_crm_segment_sending", {
    steps: () => [
        {
            content: "The segment's members are edited with the domain editor",
            trigger: ".o_field_widget[name=domain] .o_domain_selector",
        },
        {
            content: "The members button counts them",
            trigger: "button[name=action_view_members] .o_stat_value:contains(2)",
        },
        {
            content: "Start a sending to the segment",
            trigger: "button[name=action_new_sending]",
            run: "click",
        },
        {
            content: "Choose email",
            trigger: ".o_field_widget[name=use_email] input",
            run: "click",
        },
        {
            content: "Write the subject with a placeholder",
            trigger: ".o_field_widget[name=email_subject] input",
            run: "edit For you, {first_name}",
        },
        {
            content: "Send",
            trigger: ".o_form_view button[name=action_send]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The sending is under way, one line per member",
            trigger: "button[name=action_view_lines] .o_stat_value:contains(2)",
        },
        {
            content: "Its report opens grouped by result",
            trigger: "button[name=action_view_lines]",
            run: "click",
        },
        {
            content: "Both lines wait to be sent",
            trigger: ".o_group_name:contains(To send (2))",
        },
    ],
});

registry.category("web_tour.tours").add("social_crm_idea_kanban", {
    steps: () => [
        {
            content: "Ideas stand in their stages, with the customers who raised them",
            trigger: ".o_kanban_group:contains(New) .o_kanban_record:contains(green tent) .badge:contains(2)",
        },
        {
            content: "Open the idea",
            trigger: ".o_kanban_record:contains(green tent)",
            run: "click",
        },
        {
            content: "Its messages are listed",
            trigger: ".o_field_widget[name=vote_ids] .o_data_row:contains(Please add a green tent)",
        },
    ],
});
