import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("social_crm_insight_dashboard", {
    steps: () => [
        {
            content: "Open the Insight menu",
            trigger: ".o_main_navbar .dropdown-toggle:contains(Insight)",
            run: "click",
        },
        {
            content: "Open the overview",
            trigger: ".dropdown-item:contains(Overview)",
            run: "click",
        },
        {
            content: "The overview has a card per role; the detractors card counts one identity",
            trigger: ".o_kanban_record:contains(Detractor):contains(1 identities)",
        },
        {
            content: "Open the detractors, ranked by weighted score",
            trigger: ".o_kanban_record:contains(Detractor) button[name=action_view_identities]",
            run: "click",
        },
        {
            content: "The ranking graph shows the detractor",
            trigger: ".o_graph_renderer canvas",
        },
        {
            content: "Open the Insight menu again",
            trigger: ".o_main_navbar .dropdown-toggle:contains(Insight)",
            run: "click",
        },
        {
            content: "Open the sentiment trend",
            trigger: ".dropdown-item:contains(Sentiment trend)",
            run: "click",
        },
        {
            content: "The trend is a line graph of scored messages",
            trigger: ".o_graph_renderer canvas",
        },
    ],
});
